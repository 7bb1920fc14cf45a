#pragma once

#include <QString>

#include "study/oneclass.h"

namespace ll::widgets {

/// Reads back a one-class study that runOneClass wrote into `folder`: result.json's classes,
/// counts, per-model summaries, t-test and anomalies file, and the first seed's ROC and PR
/// curves from parts/. Core has no reader of its own yet (oneclass.h), so the window reads
/// the record with QJsonDocument; the error names the file and the fault.
ll::Result<ll::OneClassResult> readOneClassResult(const QString& folder);

}  // namespace ll::widgets
