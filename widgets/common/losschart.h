#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <QChartView>
#include <QList>
#include <QPointF>
#include <QStringList>
#include <QTimer>

#include "train/events.h"

class QLineSeries;
class QValueAxis;

namespace ll::widgets {

/// Loss curves over training steps, one line per loss name, under a title that names whose
/// curves they are. Terms of very different scale (a VAE's reconstruction near 250 beside its
/// KL near 5) get their own axis, on the right; each axis starts at its data, never below
/// zero for losses that are never negative. Points are thinned as a run grows so that a long
/// run costs the chart a bounded number of points, and the live run's are drawn a few times a
/// second however often they come, so that a fast run does not spend its cores redrawing.
///
/// The live run's curves are kept as they arrive even while another run's curves are shown,
/// so that selecting the training run again brings them back whole.
class LossChart : public QChartView {
    Q_OBJECT
public:
    using Log = std::vector<std::pair<std::int64_t, ll::LossMap>>;

    explicit LossChart(QWidget* parent = nullptr);

    /// Starts the live run `runDir` (its earlier log when it resumes) and shows it.
    void startLive(const QString& runDir, const Log& earlier = {});
    /// The live run has stopped: its curves stay, the title no longer says it trains.
    void stopLive();
    /// Appends a point of the live run; drawn when the live run is the one shown (with the points
    /// that follow it within a quarter of a second, together).
    void append(std::int64_t step, const ll::LossMap& losses);
    /// Shows a logged run's curves (from log.jsonl); the live run's keep coming in unseen.
    void showRun(const QString& runDir, const Log& log);
    /// Shows the live run's curves again.
    void showLive();
    /// Several runs on one chart: one curve per run (its "loss", else its first logged
    /// value), named after the run.
    void setComparison(const std::vector<std::pair<QString, Log>>& runs);

    /// What the curves are, for the titles: "Losses" ("Losses of RUN") and "Training losses"
    /// when empty, unless set otherwise.
    void setSubject(const QString& subject, const QString& emptyTitle);
    /// Empties the chart and forgets the live run.
    void clear();
    /// Replaces the live curves with a whole logged run (no run named).
    void setHistory(const Log& log);

    QString liveRun() const { return m_liveRun; }
    bool showsLive() const { return m_showingLive; }
    QString title() const;
    /// Points of a curve on the chart; the live run's count those waiting to be drawn.
    int pointCount(const QString& name) const;
    QStringList seriesNames() const;
    /// The curves drawn against the left or the right value axis.
    QStringList seriesOn(Qt::Alignment side) const;
    /// The value axis on that side (the right one is hidden while it has no curve).
    QValueAxis* valueAxis(Qt::Alignment side) const;

private:
    using Curves = std::map<std::string, QList<QPointF>>;

    /// Shows these curves; `splitScales` puts terms of a much smaller scale on the right axis
    /// (one run's terms), off when runs are compared on one axis.
    void draw(const Curves& curves, const QString& title, bool splitScales = true);
    QLineSeries* seriesFor(const std::string& name);
    /// Draws the live curves whole and holds the next redraw back for a while.
    void drawLivePoints();
    void rescale();
    void liveTitle();

    std::map<std::string, QLineSeries*> m_series;
    QValueAxis* m_x;
    QValueAxis* m_left;
    QValueAxis* m_right;
    std::int64_t m_maxStep = 10;

    QString m_subject = tr("Losses");
    QString m_emptyTitle = tr("Training losses");
    QString m_liveRun;
    bool m_liveRunning = false;
    bool m_showingLive = true;
    bool m_splitScales = true;
    Curves m_live;               // thinned as the series are
    bool m_liveWaiting = false;  // live points not drawn yet
    QTimer m_liveRedraw;         // running: a redraw was just done, the next waits for it
};

}  // namespace ll::widgets
