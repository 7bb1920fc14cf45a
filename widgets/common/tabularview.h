#pragma once

#include <QWidget>

#include "common/table.h"

class QAreaSeries;
class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QScatterSeries;
class QTableView;
class QValueAxis;

namespace ll::widgets {

class TableSamplesModel;

/// The centre for tabular data: generated rows in a table beside real ones, a scatter plot
/// of two chosen columns (real and generated overlaid) and a histogram of a chosen column
/// (real against generated, as shares of rows so that different row counts compare).
class TabularView : public QWidget {
    Q_OBJECT
public:
    explicit TabularView(QWidget* parent = nullptr);
    ~TabularView() override;

    /// New generated rows; real rows too when `real` is not empty. Without real rows the
    /// previous ones stay if they have the same columns.
    void setTables(const ll::TableSamples& generated, const ll::TableSamples& real = {});
    /// Real rows alone (a table the Data mode loaded); generated rows of other columns go.
    void setReal(const ll::TableSamples& real);
    void clear();

    const ll::TableSamples& generated() const { return m_generated; }
    const ll::TableSamples& real() const { return m_real; }
    int scatterPointCount(bool generated) const;
    int histogramBinCount() const { return m_bins; }

private:
    void updateColumnChoosers();
    void updateScatter();
    void updateHistogram();

    ll::TableSamples m_generated;
    ll::TableSamples m_real;
    int m_bins = 0;

    TableSamplesModel* m_generatedModel;
    TableSamplesModel* m_realModel;
    QTableView* m_generatedTable;
    QTableView* m_realTable;
    QLabel* m_generatedTitle;
    QWidget* m_generatedPane;  // title and table, hidden while only real rows are shown
    QLabel* m_realTitle;

    QComboBox* m_x;
    QComboBox* m_y;
    QChartView* m_scatter;
    QScatterSeries* m_realPoints;
    QScatterSeries* m_generatedPoints;
    QValueAxis* m_scatterX;
    QValueAxis* m_scatterY;

    QComboBox* m_histColumn;
    QChartView* m_histogram;
    QLineSeries* m_realHistLine;
    QLineSeries* m_generatedHistLine;
    QAreaSeries* m_realHist;
    QAreaSeries* m_generatedHist;
    QValueAxis* m_histX;
    QValueAxis* m_histY;
};

}  // namespace ll::widgets
