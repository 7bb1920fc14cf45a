#include "runsbrowser.h"

#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "run/runfolder.h"

namespace ll::widgets {

RunsBrowser::RunsBrowser(QWidget* parent) : QWidget(parent) {
    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("runsTree"));
    m_tree->setHeaderLabels(
        {tr("Run"), tr("Model"), tr("Dataset"), tr("Steps"), tr("Status"), tr("Loss")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto* refreshButton = new QPushButton(tr("Refresh"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_tree, 1);
    layout->addWidget(refreshButton);
    connect(refreshButton, &QPushButton::clicked, this, &RunsBrowser::refresh);
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item) Q_EMIT runSelected(item->data(0, Qt::UserRole).toString());
    });
}

void RunsBrowser::setWorkspace(const std::filesystem::path& workspace) {
    m_workspace = workspace;
    refresh();
}

int RunsBrowser::runCount() const {
    return m_tree->topLevelItemCount();
}

void RunsBrowser::refresh() {
    const QString current =
        m_tree->currentItem() ? m_tree->currentItem()->data(0, Qt::UserRole).toString() : QString();
    QSignalBlocker block(m_tree);
    m_tree->clear();
    for (const auto& run : ll::listRuns(m_workspace)) {
        auto* item = new QTreeWidgetItem(m_tree);
        const QString dir = QString::fromStdString(run.dir.string());
        item->setData(0, Qt::UserRole, dir);
        item->setText(0, QString::fromStdString(run.dir.filename().string()));
        item->setToolTip(0, dir);
        item->setText(1, QString::fromStdString(run.model));
        item->setText(2, QString::fromStdString(run.dataset));
        item->setText(3, QStringLiteral("%1/%2").arg(run.step).arg(run.totalSteps));
        item->setText(4, QString::fromStdString(run.status));
        if (auto it = run.lastLosses.find("loss"); it != run.lastLosses.end())
            item->setText(5, QString::number(it->second, 'g', 4));
        if (dir == current) m_tree->setCurrentItem(item);
    }
}

}  // namespace ll::widgets
