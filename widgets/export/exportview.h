#pragma once

#include <QString>
#include <QWidget>

#include "export/datasetexport.h"

class QLabel;
class QPushButton;
class QStackedWidget;
class QTabWidget;
class QTableWidget;
class QTextBrowser;

namespace ll::widgets {

class PreviewTiles;

/// The Export mode's centre: a Preview tab with the first samples of the export as the panel
/// sets it up, those its filters would drop crossed out; and a Result tab with what the last
/// export wrote (the dataset card, or what a weights file or report holds) and a button that
/// opens its folder.
class ExportView : public QWidget {
    Q_OBJECT
public:
    explicit ExportView(QWidget* parent = nullptr);

    /// A line in place of the preview (no run, drawing, a failure, tabular data).
    void setMessage(const QString& text);
    /// The first samples: tiles for images, rows (in the CSV's units) for a table's run.
    void setPreview(const ll::ExportPreview& preview, double minConfidence);
    /// Shows a finished export: `markdown` (card.md, or a summary), and `folder` to open.
    void showResult(const QString& markdown, const QString& folder);
    void showPreviewTab();

    PreviewTiles* tiles() const { return m_tiles; }
    QTableWidget* rows() const { return m_rows; }
    QTabWidget* tabs() const { return m_tabs; }
    QTextBrowser* resultText() const { return m_result; }
    QString resultFolder() const { return m_folder; }
    /// The line above the preview: what the filters drop.
    QString previewSummary() const;

private:
    void setRows(const ll::ExportPreview& preview);

    QTabWidget* m_tabs;
    QTableWidget* m_rows;
    QStackedWidget* m_previewStack;
    QLabel* m_message;
    QLabel* m_summary;
    PreviewTiles* m_tiles;
    QTextBrowser* m_result;
    QPushButton* m_openFolder;
    QString m_folder;
};

}  // namespace ll::widgets
