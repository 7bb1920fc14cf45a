#pragma once

#include <cstdint>

#include <QWidget>

#include "common/samplegrid.h"
#include "common/table.h"

class QLabel;
class QPushButton;
class QSpinBox;

namespace ll::widgets {

class RunSamplerQueue;

/// Samples a trained run: draws a class grid (images) or rows (tabular) from a seed on the
/// window's RunSamplerQueue (the run's model shared with the Steer and Latent panels), and
/// redraws when the seed changes or Reseed is pressed. Shown above the centre view while a
/// run is open. A request made while one draws waits and only the newest one runs.
class RunSampleBar : public QWidget {
    Q_OBJECT
public:
    explicit RunSampleBar(RunSamplerQueue* samplers, QWidget* parent = nullptr);
    ~RunSampleBar() override;

    void open(const QString& runDir);
    /// Forgets the open run and hides the bar.
    void close();
    bool isBusy() const;
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
    /// Draws the open run at the seed; `reopen` first opens it at its newest checkpoint.
    void request(bool reopen = false);
    void finish(const Outcome& outcome);

    RunSamplerQueue* m_samplers;
    QLabel* m_label;
    QSpinBox* m_seed;
    QPushButton* m_reseed;
    QString m_runDir;  // the open run: what the draws are for
};

}  // namespace ll::widgets
