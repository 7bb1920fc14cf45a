#include "window/runsbrowser.h"

#include <QCoreApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <system_error>

#include "run/runfolder.h"
#include "run/runlock.h"

namespace ll::widgets {

namespace {
enum Column { Name, Model, Dataset, Steps, Status, Metrics };
// Item data: another process on this machine trains the run (Stop can reach it).
constexpr int kTrainedElsewhere = Qt::UserRole + 1;

// The config's status, corrected by the lock: "running" without an owner was interrupted (a
// crash or a kill; Continue resumes it), and a run another process trains says by whom.
QString statusText(const ll::RunInfo& run, const std::optional<ll::RunOwner>& owner) {
    if (owner && !owner->thisProcess)
        return QCoreApplication::translate("RunsBrowser", "training (%1)")
            .arg(QString::fromStdString(owner->text));
    if (!owner && run.status == "running")
        return QCoreApplication::translate("RunsBrowser", "interrupted");
    return QString::fromStdString(run.status);
}

// Whether `folder` holds run folders itself (a workspace's runs/ opened as the workspace).
bool holdsRuns(const std::filesystem::path& folder) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
         it.increment(ec))
        if (std::filesystem::is_regular_file(it->path() / "config.json", ec)) return true;
    return false;
}
}  // namespace

RunsBrowser::RunsBrowser(QWidget* parent) : QWidget(parent) {
    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("runsTree"));
    m_tree->setHeaderLabels(
        {tr("Run"), tr("Model"), tr("Dataset"), tr("Steps"), tr("Status"), tr("Last metrics")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setToolTip(tr("Select several runs (Ctrl+click) to compare their loss curves"));
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

    m_continue = new QPushButton(tr("Continue training"));
    m_continue->setObjectName(QStringLiteral("continueButton"));
    m_continue->setToolTip(tr("Resume the selected run from its last checkpoint"));
    m_sample = new QPushButton(tr("Sample"));
    m_sample->setObjectName(QStringLiteral("sampleButton"));
    m_sample->setToolTip(tr("Draw new samples from the selected run's last checkpoint"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setObjectName(QStringLiteral("stopElsewhereButton"));
    m_stop->setToolTip(
        tr("Stop the training another process runs on the selected run (it "
           "saves a checkpoint first)"));
    auto* refreshButton = new QPushButton(tr("Refresh"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_continue);
    buttons->addWidget(m_sample);
    buttons->addWidget(m_stop);
    buttons->addStretch(1);
    buttons->addWidget(refreshButton);

    m_empty = new QLabel;
    m_empty->setObjectName(QStringLiteral("runsEmpty"));
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_empty->setMargin(6);
    m_empty->setForegroundRole(QPalette::PlaceholderText);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_tree, 1);
    layout->addWidget(m_empty, 1);
    layout->addLayout(buttons);
    connect(refreshButton, &QPushButton::clicked, this, &RunsBrowser::refresh);
    connect(m_continue, &QPushButton::clicked, this, [this] {
        if (const QString run = singleSelection(); !run.isEmpty()) Q_EMIT continueRequested(run);
    });
    connect(m_sample, &QPushButton::clicked, this, [this] {
        if (const QString run = singleSelection(); !run.isEmpty()) Q_EMIT sampleRequested(run);
    });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        if (const QString run = singleSelection(); !run.isEmpty()) Q_EMIT stopRequested(run);
    });
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &RunsBrowser::onSelectionChanged);
    connect(m_tree, &QWidget::customContextMenuRequested, this, &RunsBrowser::showContextMenu);
    onSelectionChanged();
}

void RunsBrowser::setWorkspace(const std::filesystem::path& workspace) {
    m_workspace = workspace;
    refresh();
}

int RunsBrowser::runCount() const {
    return m_tree->topLevelItemCount();
}

QStringList RunsBrowser::runs() const {
    QStringList out;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        out << m_tree->topLevelItem(i)->data(Name, Qt::UserRole).toString();
    return out;
}

QStringList RunsBrowser::selectedRuns() const {
    QStringList out;
    // In list order, not click order, so a comparison's legend is stable.
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (m_tree->topLevelItem(i)->isSelected())
            out << m_tree->topLevelItem(i)->data(Name, Qt::UserRole).toString();
    return out;
}

void RunsBrowser::selectRuns(const QStringList& runDirs) {
    {
        QSignalBlocker block(m_tree);
        m_tree->clearSelection();
        for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
            QTreeWidgetItem* item = m_tree->topLevelItem(i);
            if (runDirs.contains(item->data(Name, Qt::UserRole).toString())) {
                item->setSelected(true);
                m_tree->setCurrentItem(item, 0, QItemSelectionModel::NoUpdate);
            }
        }
    }
    onSelectionChanged();
}

QString RunsBrowser::singleSelection() const {
    const QStringList selected = selectedRuns();
    return selected.size() == 1 ? selected.front() : QString();
}

void RunsBrowser::updateButtons() {
    const QStringList selected = selectedRuns();
    m_continue->setEnabled(selected.size() == 1);
    m_sample->setEnabled(selected.size() == 1);
    bool elsewhere = false;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (const auto* item = m_tree->topLevelItem(i); item->isSelected())
            elsewhere = selected.size() == 1 && item->data(Name, kTrainedElsewhere).toBool();
    m_stop->setVisible(elsewhere);
}

void RunsBrowser::onSelectionChanged() {
    const QStringList selected = selectedRuns();
    updateButtons();
    if (selected.size() == 1)
        Q_EMIT runSelected(selected.front());
    else if (selected.size() > 1)
        Q_EMIT compareRequested(selected);
}

void RunsBrowser::showContextMenu(const QPoint& pos) {
    if (selectedRuns().isEmpty()) return;
    QMenu menu(this);
    menu.addAction(m_continue->text(), m_continue, &QPushButton::click)
        ->setEnabled(m_continue->isEnabled());
    menu.addAction(m_sample->text(), m_sample, &QPushButton::click)
        ->setEnabled(m_sample->isEnabled());
    if (m_stop->isVisible()) menu.addAction(tr("Stop its training"), m_stop, &QPushButton::click);
    if (selectedRuns().size() > 1)
        menu.addAction(tr("Compare loss curves"), this,
                       [this] { Q_EMIT compareRequested(selectedRuns()); });
    menu.exec(m_tree->viewport()->mapToGlobal(pos));
}

void RunsBrowser::refresh() {
    const QStringList selected = selectedRuns();
    QSignalBlocker block(m_tree);
    m_tree->clear();
    for (const auto& run : ll::listRuns(m_workspace)) {
        auto* item = new QTreeWidgetItem(m_tree);
        const QString dir = QString::fromStdString(run.dir.string());
        item->setData(Name, Qt::UserRole, dir);
        item->setText(Name, QString::fromStdString(run.dir.filename().string()));
        item->setToolTip(Name, dir);
        item->setText(Model, QString::fromStdString(run.model));
        item->setText(Dataset, QString::fromStdString(run.dataset));
        item->setText(Steps, QStringLiteral("%1/%2").arg(run.step).arg(run.totalSteps));
        const auto owner = ll::RunLock::owner(run.dir);
        item->setText(Status, statusText(run, owner));
        item->setData(Name, kTrainedElsewhere, owner && !owner->thisProcess && owner->here);
        QStringList metrics;
        for (const auto& [name, value] : run.lastLosses)
            metrics << QStringLiteral("%1 %2").arg(QString::fromStdString(name),
                                                   QString::number(value, 'g', 4));
        item->setText(Metrics, metrics.join(QStringLiteral(" · ")));
        if (selected.contains(dir)) item->setSelected(true);
    }
    block.unblock();
    const bool empty = m_tree->topLevelItemCount() == 0;
    m_empty->setText(empty ? emptyText() : QString());
    m_tree->setVisible(!empty);
    m_empty->setVisible(empty);
    updateButtons();
}

QString RunsBrowser::emptyText() const {
    const QString runs = QString::fromStdString((m_workspace / "runs").string());
    // A runs folder opened as the workspace: its runs are one level too high to be found.
    if (holdsRuns(m_workspace))
        return tr("No runs in %1. %2 holds run folders itself: open its parent as the "
                  "workspace, or move them into %1.")
            .arg(runs, QString::fromStdString(m_workspace.string()));
    return tr("No runs in %1 yet. Load a dataset in the Data mode and press Train in the Train "
              "mode; runs that latentlab-cli writes here show up too.")
        .arg(runs);
}

}  // namespace ll::widgets
