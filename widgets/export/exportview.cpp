#include "export/exportview.h"

#include <map>

#include <QDesktopServices>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

#include "common/notelabel.h"
#include "export/previewtiles.h"

namespace ll::widgets {

ExportView::ExportView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("exportView"));
    m_tiles = new PreviewTiles;
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_tiles);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("exportPreviewMessage"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setMargin(24);
    m_rows = new QTableWidget;
    m_rows->setObjectName(QStringLiteral("exportPreviewRows"));
    m_rows->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_rows->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_rows->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_rows->horizontalHeader()->setStretchLastSection(true);
    m_previewStack = new QStackedWidget;
    m_previewStack->addWidget(m_message);
    m_previewStack->addWidget(scroll);
    m_previewStack->addWidget(m_rows);
    m_summary = noteLabel();
    m_summary->setObjectName(QStringLiteral("exportPreviewSummary"));
    m_summary->setContentsMargins(8, 4, 8, 4);
    auto* previewPage = new QWidget;
    auto* previewLayout = new QVBoxLayout(previewPage);
    previewLayout->setContentsMargins(0, 0, 0, 0);
    previewLayout->addWidget(m_summary);
    previewLayout->addWidget(m_previewStack, 1);

    m_result = new QTextBrowser;
    m_result->setObjectName(QStringLiteral("exportResult"));
    m_result->setOpenLinks(false);
    m_openFolder = new QPushButton(tr("Open folder"));
    m_openFolder->setObjectName(QStringLiteral("openExportFolder"));
    m_openFolder->setToolTip(tr("Opens the exported folder in the file manager"));
    auto* back = new QPushButton(tr("Back to the preview"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(back);
    buttons->addWidget(m_openFolder);
    auto* resultPage = new QWidget;
    auto* resultLayout = new QVBoxLayout(resultPage);
    resultLayout->setContentsMargins(0, 0, 0, 4);
    resultLayout->addWidget(m_result, 1);
    resultLayout->addLayout(buttons);

    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("exportTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(previewPage, tr("Preview"));
    m_tabs->addTab(resultPage, tr("Result"));
    m_tabs->setTabEnabled(1, false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);

    connect(m_openFolder, &QPushButton::clicked, this, [this] {
        if (!m_folder.isEmpty()) QDesktopServices::openUrl(QUrl::fromLocalFile(m_folder));
    });
    connect(back, &QPushButton::clicked, this, &ExportView::showPreviewTab);
    setMessage(tr("Select a generator run in the runs browser to export from it."));
}

void ExportView::setMessage(const QString& text) {
    m_message->setText(text);
    m_summary->clear();
    m_summary->setVisible(false);
    m_previewStack->setCurrentWidget(m_message);
}

void ExportView::setRows(const ll::ExportPreview& preview) {
    const ll::TableSamples& t = preview.table;
    const auto columns = static_cast<int>(t.columns.size());
    m_rows->clear();
    m_rows->setRowCount(static_cast<int>(t.rows));
    m_rows->setColumnCount(columns + 2);
    QStringList headers;
    for (const auto& c : t.columns) headers << QString::fromStdString(c);
    m_rows->setHorizontalHeaderLabels(headers << tr("class") << tr("filters"));
    for (int r = 0; r < static_cast<int>(t.rows); ++r) {
        const auto dropped = static_cast<std::size_t>(r) < preview.dropped.size()
                                 ? preview.dropped[static_cast<std::size_t>(r)]
                                 : std::string();
        const auto cell = [&](int column, const QString& text, bool number) {
            auto* item = new QTableWidgetItem(text);
            item->setTextAlignment((number ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
            if (!dropped.empty()) item->setForeground(palette().color(QPalette::PlaceholderText));
            m_rows->setItem(r, column, item);
        };
        for (int c = 0; c < columns; ++c)
            cell(c, QString::fromStdString(t.text(r, static_cast<std::size_t>(c), 4)),
                 !t.categorical(static_cast<std::size_t>(c)));
        const auto label = static_cast<std::size_t>(t.labels[static_cast<std::size_t>(r)]);
        cell(columns,
             QString::fromStdString(label < t.classNames.size() ? t.classNames[label] : "?"),
             false);
        cell(columns + 1,
             dropped.empty() ? tr("kept") : tr("dropped: %1").arg(QString::fromStdString(dropped)),
             false);
    }
    m_rows->resizeColumnsToContents();
}

void ExportView::setPreview(const ll::ExportPreview& preview, double minConfidence) {
    const bool rows = !preview.table.empty();
    if (preview.grid.empty() && !rows) {
        setMessage(tr("The preview drew nothing."));
        return;
    }
    if (rows)
        setRows(preview);
    else
        m_tiles->setPreview(preview, minConfidence);
    std::map<std::string, int> reasons;
    int tiles = rows ? static_cast<int>(preview.table.rows) : preview.grid.rows * preview.grid.cols;
    for (int i = 0; i < tiles && i < int(preview.dropped.size()); ++i)
        if (const auto& why = preview.dropped[std::size_t(i)]; !why.empty()) ++reasons[why];
    // An unconditional model's draws come in no class order: its classifier sorts them.
    QString text =
        rows ? tr("The first %1 rows the export draws, in its CSV's units.").arg(tiles)
        : preview.grid.rowLabels.empty()
            ? tr("The first %1 samples the export draws; the classifier sorts them into classes.")
                  .arg(tiles)
            : tr("The first %1 samples of the export, one row per class.").arg(tiles);
    if (reasons.empty()) {
        text += tr(" The filters keep all of them.");
    } else {
        QStringList parts;
        for (const auto& [why, n] : reasons)
            parts << (why == "confidence" ? tr("%1 below the confidence").arg(n)
                      : why == "copy"     ? (rows ? tr("%1 near-copies of training rows")
                                                  : tr("%1 near-copies of training images"))
                                            .arg(n)
                                      : tr("%1 by %2").arg(n).arg(QString::fromStdString(why)));
        text += (rows ? tr(" Greyed, the filters would drop: %1.")
                      : tr(" Crossed out, the filters would drop: %1 (hover a tile for why)."))
                    .arg(parts.join(QStringLiteral(", ")));
    }
    m_summary->setText(text);
    m_summary->setVisible(true);
    m_previewStack->setCurrentIndex(rows ? 2 : 1);
}

QString ExportView::previewSummary() const {
    return m_summary->text();
}

void ExportView::showResult(const QString& markdown, const QString& folder) {
    m_folder = folder;
    m_result->setMarkdown(markdown);
    m_openFolder->setEnabled(!folder.isEmpty());
    m_tabs->setTabEnabled(1, true);
    m_tabs->setCurrentIndex(1);
}

void ExportView::showPreviewTab() {
    m_tabs->setCurrentIndex(0);
}

}  // namespace ll::widgets
