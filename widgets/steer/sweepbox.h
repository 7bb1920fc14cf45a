#pragma once

#include <QGroupBox>
#include <QStringList>

#include "common/samplegrid.h"
#include "models/request.h"
#include "steer/steerrun.h"

class QComboBox;
class QLineEdit;
class QPushButton;

namespace ll::widgets {

class RunSamplerQueue;

/// The Steer mode's X/Y sweep: two settings and their values, every other setting as the
/// controls say. The sweep runs on the window's RunSamplerQueue (after the draw in hand, before
/// the next), streams its cells into the grid, and saves a PNG with a JSON sidecar in
/// <run>/sweeps/. Stop ends it at the next cell.
class SweepBox : public QGroupBox {
    Q_OBJECT
public:
    explicit SweepBox(RunSamplerQueue* samplers, QWidget* parent = nullptr);

    /// Starts the sweep the axes ask for over `base` (its classes and locks left out; the
    /// class axis's default `defaultClass`; guided by the noisy-classifier run `classifierRun`
    /// when not empty); false, with failed(), when an axis is wrong.
    bool start(const SteerRun& run, ll::SampleRequest base, int defaultClass,
               const QString& classifierRun);
    bool isBusy() const;
    /// Whether the grid on screen is the sweep's (the panel says when a draw replaces it).
    bool isShown() const { return m_shown; }
    void setShown(bool shown) { m_shown = shown; }
    /// Offers the axes the run's model takes, with values that suit each.
    void setRun(const SteerRun& run);
    /// What made cell `index` of the sweep on screen; empty past its cells.
    QString describeCell(int index) const;

Q_SIGNALS:
    /// Run sweep was clicked: the panel starts one with its settings.
    void runClicked();
    void gridReady(const ll::SampleGrid& grid, const QString& caption, bool preview);
    void status(const QString& text);
    void failed(const QString& message);

private:
    static QString defaultValues(const QString& axis);

    QString m_axesRun;  // the run whose axes the boxes offer
    void addCell(int row, int col, const ll::SampleGrid& tile, const QString& caption);
    void done(const QString& error, const QString& out, const QString& caption);

    RunSamplerQueue* m_samplers;
    QComboBox* m_sweepX;
    QComboBox* m_sweepY;
    QLineEdit* m_sweepXValues;
    QLineEdit* m_sweepYValues;
    QPushButton* m_sweepButton;
    QPushButton* m_sweepStop;
    ll::SampleGrid m_grid;
    bool m_shown = false;   // the grid on screen is the sweep's
    QString m_columnAxis;   // the columns' setting
    QStringList m_columns;  // its values
    QStringList m_rows;     // row labels
};

}  // namespace ll::widgets
