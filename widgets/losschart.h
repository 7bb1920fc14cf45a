#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <QChartView>
#include <QStringList>

#include "train/trainconfig.h"

class QLineSeries;
class QLogValueAxis;
class QValueAxis;

namespace ll::widgets {

/// Live loss curves, one line per loss name, over training steps. Points are thinned as a
/// run grows so that a long run costs the chart a bounded number of points.
class LossChart : public QChartView {
    Q_OBJECT
public:
    explicit LossChart(QWidget* parent = nullptr);

    void clear();
    void append(std::int64_t step, const ll::LossValues& losses);
    /// Replaces the curves with a whole logged run (from log.jsonl).
    void setHistory(const std::vector<std::pair<std::int64_t, ll::LossValues>>& log);
    /// Several runs on one chart: one curve per run (its "loss", else its first logged
    /// value), named after the run.
    void setComparison(
        const std::vector<std::pair<QString, std::vector<std::pair<std::int64_t, ll::LossValues>>>>&
            runs);
    int pointCount(const QString& name) const;
    QStringList seriesNames() const;

private:
    QLineSeries* seriesFor(const std::string& name);
    void addPoint(QLineSeries* series, std::int64_t step, double value);
    void rescale();

    std::map<std::string, QLineSeries*> m_series;
    QValueAxis* m_x;
    QValueAxis* m_y;
    double m_minY = 0;
    double m_maxY = 1;
    bool m_hasPoints = false;
    std::int64_t m_maxStep = 10;
};

}  // namespace ll::widgets
