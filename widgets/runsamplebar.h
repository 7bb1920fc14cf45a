#pragma once

#include <cstdint>
#include <memory>

#include <QWidget>

#include "common/samplegrid.h"
#include "common/table.h"

class QLabel;
class QPushButton;
class QSpinBox;

namespace ll {
class RunSampler;
}

namespace ll::widgets {

/// Samples a trained run: opens it with RunSampler on a worker thread, draws a class grid
/// (images) or rows (tabular) from a seed, and redraws when the seed changes or Reseed is
/// pressed. Shown above the centre view while a run is open. At most one draw runs at a
/// time; a request made meanwhile waits and only the newest one runs.
class RunSampleBar : public QWidget {
    Q_OBJECT
public:
    explicit RunSampleBar(QWidget* parent = nullptr);
    ~RunSampleBar() override;

    void open(const QString& runDir);
    /// Forgets the open run and hides the bar.
    void close();
    bool isBusy() const { return m_busy; }
    QString runDir() const { return m_runDir; }
    std::uint64_t seed() const;

Q_SIGNALS:
    void gridReady(const ll::SampleGrid& grid, const QString& caption);
    void tableReady(const ll::TableSamples& table, const QString& caption);
    /// The run has nothing to sample (a classifier).
    void noSamples(const QString& message);
    void failed(const QString& message);

private:
    struct Outcome;
    void request();
    void start();
    void finish(const Outcome& outcome);

    QLabel* m_label;
    QSpinBox* m_seed;
    QPushButton* m_reseed;
    std::shared_ptr<ll::RunSampler> m_sampler;
    QString m_runDir;     // the run m_sampler has open
    QString m_wantedRun;  // the run the next draw is for
    bool m_busy = false;
    bool m_pending = false;
};

}  // namespace ll::widgets
