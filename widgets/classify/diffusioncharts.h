#pragma once

#include <QString>

#include "study/diffusionclassifier.h"

class QChart;

namespace ll::widgets {

/// The diffusion classifier's charts, built from core's numbers as they are. Each returns a
/// new chart for a QChartView to own.

/// Accuracy against network evaluations per image (log x): the budget curve of the unpruned
/// scores (series "budget"), the pruned run's own point ("pruned") and the clean classifier
/// as a flat line ("clean classifier") when there is one.
QChart* budgetChart(const ll::DiffusionClassifyResult& result);

/// One image's per-class mean error as bars (series "error"), the chosen class's bar in its
/// own set ("chosen").
QChart* errorBarsChart(const ll::DiffusionExplanation& explanation);

/// Each class's error against t (a line per class, named by the class).
QChart* errorCurvesChart(const ll::DiffusionExplanation& explanation);

/// An empty chart with `title` (before anything is computed).
QChart* titledChart(const QString& title);

}  // namespace ll::widgets
