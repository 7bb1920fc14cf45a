// The report's content: from the runs' files to blocks, with the window's own charts. The
// studies' sections are reportstudies.cpp's.
#include <algorithm>
#include <cmath>
#include <set>

#include <QChart>
#include <QDateTime>

#include "common/losschart.h"
#include "inspect/cellmap.h"
#include "inspect/inspectcharts.h"
#include "models/catalog.h"
#include "report/reportblocks.h"
#include "report/reportdata.h"

namespace ll::report {

namespace blocks {

namespace {

constexpr int kMaxImageWidth = 1024;

}  // namespace

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString number(double v, int digits) {
    return std::isnan(v) ? QStringLiteral("–") : QString::number(v, 'g', digits);
}

Block text(Block::Kind kind, const QString& text) {
    Block b;
    b.kind = kind;
    b.text = text;
    return b;
}

Block table(QStringList header, std::vector<QStringList> rows) {
    Block b;
    b.kind = Block::Kind::Table;
    b.table = {std::move(header), std::move(rows)};
    return b;
}

Block image(QImage picture, QStringList labels, const QString& caption) {
    Block b;
    b.kind = Block::Kind::Image;
    // A huge picture (many large colour tiles) would swell the HTML: at most a page wide.
    if (picture.width() > kMaxImageWidth)
        picture = picture.scaledToWidth(kMaxImageWidth, Qt::SmoothTransformation);
    // Small tiles (28 px) are drawn bigger, pixel for pixel, so that a reader sees them.
    const int rows = std::max<int>(1, static_cast<int>(labels.size()));
    const int tile = std::max(1, picture.height() / rows);
    const int scale = labels.isEmpty() ? (picture.width() < 300 ? 2 : 1)
                                       : std::clamp((48 + tile - 1) / tile, 1, 4);
    b.image = {std::move(picture), std::move(labels), scale};
    b.text = caption;
    return b;
}

}  // namespace blocks

namespace {

using namespace blocks;

// Logical pixels of a chart alone on a row, and of one of two side by side.
constexpr QSize kWide(kChartsWidth, 320);
constexpr QSize kHalf(kChartsWidth / 2 - 4, 290);
constexpr int kNeighbourRows = 8;  // closest pairs shown
constexpr const char* kCli = "latentlab-cli";

QString scoreValue(const EvalScore& s) {
    QString text = number(s.value);
    if (!std::isnan(s.std)) text += QStringLiteral(" ± ") + number(s.std, 2);
    return text;
}

Block charts(std::vector<std::shared_ptr<ChartFigure>> figures, const QString& caption = {}) {
    Block b;
    b.kind = Block::Kind::Charts;
    b.charts = std::move(figures);
    b.text = caption;
    return b;
}

// The run's own command line for what a section lacks.
QString cli(const RunReport& run, const QString& rest) {
    QString dir = q(run.dir.string());
    if (dir.contains(QLatin1Char(' '))) dir = QLatin1Char('"') + dir + QLatin1Char('"');
    return QStringLiteral("%1 evaluate --run %2%3").arg(QString::fromLatin1(kCli), dir, rest);
}

template <class Chart>
std::shared_ptr<Chart> chartWidget() {
    return std::make_shared<Chart>();
}

QString className(const std::vector<std::string>& names, int k) {
    return k >= 0 && k < int(names.size()) ? q(names[std::size_t(k)]) : QString::number(k);
}

// ---- One run ----

void settings(Document& doc, const RunReport& run) {
    const TrainConfig& c = run.config;
    const ModelInfo& info = modelInfo(c.model);
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Settings")));
    std::vector<QStringList> rows;
    auto row = [&](const QString& name, const QString& value) { rows.push_back({name, value}); };
    row(QStringLiteral("model"),
        q(c.model) +
            (info.description.empty() ? QString() : QStringLiteral(": ") + q(info.description)));
    if (!c.preset.empty()) row(QStringLiteral("preset"), q(c.preset));
    QString dataset = q(run.data.datasetName.empty() ? c.dataset.source : run.data.datasetName);
    if (c.dataset.source != run.data.datasetName && !run.data.datasetName.empty())
        dataset += QStringLiteral(" (") + q(c.dataset.source) + QStringLiteral(")");
    dataset += QStringLiteral(", split ") + q(c.dataset.split);
    if (c.dataset.limit > 0) dataset += QStringLiteral(", at most %1 samples").arg(c.dataset.limit);
    if (c.dataset.longTailRatio != 1.0)
        dataset += QStringLiteral(", long tail %1").arg(c.dataset.longTailRatio);
    row(QStringLiteral("data"), dataset);
    const ModelShape& s = run.data.shape;
    if (!run.data.datasetName.empty())
        row(QStringLiteral("shape"), s.tabular() ? QStringLiteral("%1 features").arg(s.features)
                                                 : QStringLiteral("%1 × %2, %3 channel(s)")
                                                       .arg(s.width)
                                                       .arg(s.height)
                                                       .arg(s.channels));
    if (!run.data.classNames.empty()) {
        QStringList names;
        for (const auto& n : run.data.classNames) names << q(n);
        row(QStringLiteral("classes"), names.join(QStringLiteral(", ")));
    }
    row(QStringLiteral("steps"),
        QStringLiteral("%1 of %2 (%3)")
            .arg(run.info.step)
            .arg(c.steps)
            .arg(run.info.status.empty() ? QStringLiteral("unknown") : q(run.info.status)));
    row(QStringLiteral("batch, learning rate"),
        QStringLiteral("%1, %2").arg(c.batchSize).arg(c.learningRate));
    row(QStringLiteral("seed"), QString::number(c.seed));
    for (const auto& [name, value] : c.settings)
        row(QStringLiteral("--set ") + q(name),
            value.empty() ? QStringLiteral("(none)") : q(value));
    if (!run.info.lastLosses.empty()) {
        QStringList losses;
        for (const auto& [name, value] : run.info.lastLosses)
            losses << q(name) + QStringLiteral(" ") + number(value);
        row(QStringLiteral("last losses"), losses.join(QStringLiteral(", ")));
    }
    doc.push_back(table({QStringLiteral("setting"), QStringLiteral("value")}, std::move(rows)));
}

void losses(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Loss curves")));
    if (run.log.empty()) {
        doc.push_back(text(Block::Kind::Note, QStringLiteral("No losses logged yet.")));
        return;
    }
    auto chart = chartWidget<widgets::LossChart>();
    chart->showRun(q(run.dir.string()), run.log);
    doc.push_back(charts({std::make_shared<ChartFigure>(chart, chart.get(), kWide)}));
}

void samples(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Samples")));
    if (run.data.shape.tabular()) {
        doc.push_back(text(Block::Kind::Note,
                           QStringLiteral("A tabular run: its samples are rows (samples/*.csv), "
                                          "not a picture.")));
        return;
    }
    if (!run.gridStep) {
        doc.push_back(text(Block::Kind::Note, QStringLiteral("No sample grid saved yet.")));
        return;
    }
    QStringList labels;
    const bool byClass = modelInfo(run.config.model).conditional;
    const int rows = std::min<int>(run.data.shape.numClasses, run.config.maxGridRows);
    if (byClass && rows > 0 && run.grid.height() % rows == 0)
        for (int k = 0; k < rows; ++k) labels << className(run.data.classNames, k);
    doc.push_back(
        image(run.grid, labels,
              QStringLiteral("The grid saved at step %1%2.")
                  .arg(*run.gridStep)
                  .arg(labels.isEmpty() ? QString() : QStringLiteral(": one row per class"))));
}

void metrics(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Metrics")));
    for (const auto& why : run.unreadableRecords)
        doc.push_back(text(Block::Kind::Note, QStringLiteral("Left out, unreadable: ") + q(why)));
    const EvalRecord* r = run.mainRecord();
    if (!r) {
        doc.push_back(
            text(Block::Kind::Note, QStringLiteral("Not evaluated yet: ") + cli(run, {})));
        return;
    }
    doc.push_back(text(Block::Kind::Text, QStringLiteral("Step %1, guidance %2. Protocol: %3")
                                              .arg(r->step)
                                              .arg(r->guidance)
                                              .arg(q(r->protocol))));
    std::vector<QStringList> rows;
    for (const auto& s : r->scores)
        rows.push_back({q(scoreLabel(s.name)), scoreValue(s), number(s.floor),
                        (s.lowerIsBetter ? QStringLiteral("lower is better. ")
                                         : QStringLiteral("higher is better. ")) +
                            q(scoreHelp(s.name))});
    for (const auto& [name, why] : r->errors)
        rows.push_back({q(scoreLabel(name)), QStringLiteral("not computed"), QString(), q(why)});
    doc.push_back(table({QStringLiteral("metric"), QStringLiteral("value"),
                         QStringLiteral("floor (real vs real)"), QStringLiteral("how to read it")},
                        std::move(rows)));
    if (!r->generatedClasses.empty()) {
        auto chart = chartWidget<widgets::ClassChart>();
        chart->setRecord(r);
        const QSize size(kWide.width(), std::max(260, 80 + 30 * int(r->classNames.size())));
        doc.push_back(charts({std::make_shared<ChartFigure>(chart, chart.get(), size)}));
    }
}

void overSteps(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Metrics over steps")));
    std::map<std::string, std::set<std::int64_t>> steps;  // metric: steps it was scored at
    for (const auto& r : run.records)
        if (r.guidance == 0)
            for (const auto& s : r.scores)
                if (!std::isnan(s.value)) steps[s.name].insert(r.step);
    std::vector<std::shared_ptr<ChartFigure>> figures;
    for (const auto& m : evalMetricNames()) {
        const std::string name = m == "neighbours" ? "nn_distance" : m;
        if (steps[name].size() < 2) continue;
        auto chart = chartWidget<widgets::MetricsOverSteps>();
        chart->setRecords(q(run.dir.string()), &run.records);
        if (!chart->showMetric(q(name))) continue;
        // The window's title names the floor too; half a page's width cuts it short.
        chart->chartView()->chart()->setTitle(q(scoreLabel(name)) + QStringLiteral(" over steps"));
        figures.push_back(std::make_shared<ChartFigure>(chart, chart->chartView(), kHalf));
    }
    if (figures.empty()) {
        doc.push_back(text(Block::Kind::Note, QStringLiteral("Fewer than two evaluated steps: ") +
                                                  cli(run, QStringLiteral(" --all-checkpoints"))));
        return;
    }
    doc.push_back(text(Block::Kind::Text,
                       QStringLiteral("Each score at every evaluated checkpoint (guidance 0); "
                                      "dashed: its real-vs-real floor.")));
    for (std::size_t i = 0; i < figures.size(); i += 2)
        doc.push_back(charts({figures.begin() + std::ptrdiff_t(i),
                              figures.begin() + std::ptrdiff_t(std::min(i + 2, figures.size()))}));
}

void sweep(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Guidance sweep")));
    const std::int64_t step = run.sweepStep();
    if (step < 0) {
        doc.push_back(
            text(Block::Kind::Note, modelInfo(run.config.model).guidance
                                        ? QStringLiteral("No guidance sweep yet: ") +
                                              cli(run, QStringLiteral(" --guidance-sweep 0,1,3"))
                                        : QStringLiteral("%1 takes no guidance weight: no sweep.")
                                              .arg(q(run.config.model))));
        return;
    }
    auto sweepCharts = chartWidget<widgets::SweepCharts>();
    sweepCharts->setRecords(run.records, step);
    // The window's titles speak of hovering and are long for half a page.
    sweepCharts->byWeightView()->chart()->setTitle(
        QStringLiteral("Scores against the guidance weight"));
    sweepCharts->tradeOffView()->chart()->setTitle(QStringLiteral("Fidelity against diversity"));
    doc.push_back(
        charts({std::make_shared<ChartFigure>(sweepCharts, sweepCharts->byWeightView(), kHalf),
                std::make_shared<ChartFigure>(sweepCharts, sweepCharts->tradeOffView(), kHalf)},
               QStringLiteral("Step %1: fidelity (precision) against diversity (recall) as the "
                              "guidance weight grows.")
                   .arg(step)));
    std::vector<QStringList> rows;
    const char* names[] = {"fid", "precision", "recall", "agreement"};
    for (const auto& r : run.records) {
        if (r.step != step) continue;
        QStringList row{number(r.guidance)};
        for (const char* m : names)
            row << (r.score(m) ? number(r.score(m)->value) : number(kNoValue));
        rows.push_back(row);
    }
    QStringList header{QStringLiteral("guidance")};
    for (const char* m : names) header << q(scoreLabel(m));
    doc.push_back(table(header, std::move(rows)));
}

void memorisation(Document& doc, const RunReport& run) {
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Memorisation")));
    const EvalRecord* r = run.mainRecord();
    const bool pairs = r && !r->neighbours.empty() && !run.neighbours.isNull();
    const bool cells = r && !r->cells.empty();
    if (!pairs && !cells) {
        doc.push_back(
            text(Block::Kind::Note,
                 QStringLiteral("No nearest-neighbour search or data-copying test yet: ") +
                     cli(run, QStringLiteral(" --metrics neighbours,ct"))));
        return;
    }
    auto scoreLine = [&](const char* name) {
        const EvalScore* s = r->score(name);
        return s ? QStringLiteral("%1 %2 (floor %3): %4")
                       .arg(q(scoreLabel(name)), scoreValue(*s), number(s->floor),
                            q(scoreHelp(name)))
                 : QString();
    };
    if (pairs) {
        const int rows = int(r->neighbours.size());
        const int tile = run.neighbours.height() / std::max(1, rows);
        const int shown = std::min(rows, kNeighbourRows);
        QStringList labels;
        for (int i = 0; i < shown; ++i) {
            const auto& n = r->neighbours[std::size_t(i)];
            QStringList d;
            for (double v : n.distances) d << QString::number(v, 'f', 2);
            labels << className(r->classNames, n.label) + QStringLiteral(" · ") +
                          d.join(QStringLiteral(", "));
        }
        doc.push_back(text(Block::Kind::Text, scoreLine("nn_distance")));
        doc.push_back(
            image(run.neighbours.copy(0, 0, run.neighbours.width(), tile * shown), labels,
                  QStringLiteral("The %1 generated samples closest to a training image: "
                                 "each row a sample, then its nearest training images "
                                 "(label: the class it was drawn as, and the distances to them).")
                      .arg(shown)));
    }
    if (cells) {
        doc.push_back(text(Block::Kind::Text, scoreLine("ct")));
        auto map = chartWidget<widgets::CellMap>();
        map->setRecord(r);
        doc.push_back(charts({std::make_shared<ChartFigure>(map, map.get(), QSize(560, 420))},
                             QStringLiteral("Data-copying cells on the PCA map of the training "
                                            "features: red cells copy (samples closer to the "
                                            "training images than unseen images are), blue "
                                            "cells underfit.")));
        if (!run.cells.isNull()) {
            QStringList labels;
            for (const auto& c : r->cells)
                labels << QStringLiteral("cell %1: Z %2%3")
                              .arg(c.id)
                              .arg(number(c.z, 3))
                              .arg(c.kept ? QString() : QStringLiteral(" (not counted)"));
            if (run.cells.height() % std::max<qsizetype>(1, labels.size())) labels.clear();
            doc.push_back(image(run.cells, labels,
                                QStringLiteral("Each cell's samples closest to a training image, "
                                               "in pairs: sample, then its nearest training "
                                               "image.")));
        }
    }
}

// ---- Several runs ----

void comparison(Document& doc, const ReportData& data) {
    doc.push_back(
        text(Block::Kind::Section, QStringLiteral("Comparison of %1 runs").arg(data.runs.size())));
    QStringList header{QString()};
    for (const auto& run : data.runs) header << run.name;
    std::vector<QStringList> rows;
    auto row = [&](const QString& name, auto&& value) {
        QStringList cells{name};
        for (const auto& run : data.runs) cells << value(run);
        rows.push_back(cells);
    };
    row(QStringLiteral("model"), [](const RunReport& r) { return q(r.config.model); });
    row(QStringLiteral("preset"), [](const RunReport& r) { return q(r.config.preset); });
    row(QStringLiteral("data"), [](const RunReport& r) {
        QString d = q(r.data.datasetName.empty() ? r.config.dataset.source : r.data.datasetName);
        if (r.config.dataset.limit > 0) d += QStringLiteral(" (%1)").arg(r.config.dataset.limit);
        return d;
    });
    row(QStringLiteral("steps"), [](const RunReport& r) {
        return QStringLiteral("%1 of %2").arg(r.info.step).arg(r.config.steps);
    });
    row(QStringLiteral("batch"),
        [](const RunReport& r) { return QString::number(r.config.batchSize); });
    row(QStringLiteral("learning rate"),
        [](const RunReport& r) { return QString::number(r.config.learningRate); });
    row(QStringLiteral("seed"), [](const RunReport& r) { return QString::number(r.config.seed); });
    row(QStringLiteral("last loss"), [](const RunReport& r) {
        const auto it = r.info.lastLosses.find("loss");
        return it == r.info.lastLosses.end() ? number(kNoValue) : number(it->second);
    });
    row(QStringLiteral("evaluated at"), [](const RunReport& r) {
        const EvalRecord* e = r.mainRecord();
        return e ? QStringLiteral("step %1, guidance %2").arg(e->step).arg(e->guidance)
                 : QStringLiteral("not evaluated");
    });
    std::set<std::string> scored;
    for (const auto& run : data.runs)
        if (const EvalRecord* e = run.mainRecord())
            for (const auto& s : e->scores) scored.insert(s.name);
    for (const auto& m : evalMetricNames()) {
        const std::string name = m == "neighbours" ? "nn_distance" : m;
        if (!scored.contains(name)) continue;
        row(q(scoreLabel(name)), [&](const RunReport& r) {
            const EvalRecord* e = r.mainRecord();
            const EvalScore* s = e ? e->score(name) : nullptr;
            return s ? scoreValue(*s) + QStringLiteral(" (floor ") + number(s->floor) +
                           QStringLiteral(")")
                     : number(kNoValue);
        });
    }
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Settings and latest scores")));
    doc.push_back(table(header, std::move(rows)));
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Loss curves")));
    std::vector<std::pair<QString, widgets::LossChart::Log>> logs;
    for (const auto& run : data.runs)
        if (!run.log.empty()) logs.emplace_back(run.name, run.log);
    if (logs.empty()) {
        doc.push_back(text(Block::Kind::Note, QStringLiteral("No run logged losses yet.")));
        return;
    }
    auto chart = chartWidget<widgets::LossChart>();
    chart->setComparison(logs);
    doc.push_back(charts({std::make_shared<ChartFigure>(chart, chart.get(), kWide)}));
}

// The diffusion classifier's study of the run: accuracy beside the clean classifier's, the
// cost, and its charts as core drew them.
void asClassifier(Document& doc, const RunReport& run) {
    if (!run.classification) return;  // a study that is not there is not a gap in the run
    const DiffusionClassifyResult& c = *run.classification;
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("As a classifier")));
    std::vector<QStringList> rows{{QStringLiteral("diffusion classifier (%1)").arg(q(c.settings)),
                                   number(c.accuracy), number(c.evaluationsPerImage)}};
    if (c.unprunedAccuracy)
        rows.push_back({QStringLiteral("the same, unpruned"), number(*c.unprunedAccuracy),
                        number(c.unprunedEvaluationsPerImage)});
    if (c.baselineAccuracy)
        rows.push_back({QStringLiteral("clean classifier (%1)").arg(q(c.baselineName)),
                        number(*c.baselineAccuracy), QStringLiteral("1")});
    doc.push_back(table({QStringLiteral("classifier"), QStringLiteral("accuracy"),
                         QStringLiteral("network evaluations per image")},
                        std::move(rows)));
    doc.push_back(text(Block::Kind::Text,
                       QStringLiteral("%1 images at step %2; each goes to the class whose "
                                      "conditional denoising error is lowest (Li et al. 2023).")
                           .arg(c.count)
                           .arg(c.step)));
    if (!c.confusion.empty() && !run.confusion.isNull())
        doc.push_back(image(run.confusion, {}, QStringLiteral("Confusion: rows the true class")));
    if (!run.budget.isNull())
        doc.push_back(
            image(run.budget, {}, QStringLiteral("Accuracy against evaluations per image")));
}

}  // namespace

Document buildDocument(const ReportData& data) {
    Document doc;
    doc.push_back(text(Block::Kind::Title, QStringLiteral("LatentLab report")));
    QStringList parts;
    auto names = [](const auto& items) {
        QStringList out;
        for (const auto& item : items) out << item.name;
        return out.join(QStringLiteral(", "));
    };
    if (!data.runs.empty())
        parts << QStringLiteral("%1 run(s): %2").arg(data.runs.size()).arg(names(data.runs));
    if (!data.studies.empty())
        parts << QStringLiteral("%1 %2: %3")
                     .arg(data.studies.size())
                     .arg(data.studies.size() == 1 ? QStringLiteral("study")
                                                   : QStringLiteral("studies"),
                          names(data.studies));
    doc.push_back(
        text(Block::Kind::Text, QStringLiteral("%1. Written %2.")
                                    .arg(parts.join(QStringLiteral("; ")),
                                         QDateTime::currentDateTime().toString(Qt::ISODate))));
    if (data.runs.size() > 1)
        comparison(doc, data);
    else if (data.runs.size() == 1)
        doc.push_back(
            text(Block::Kind::Note,
                 QStringLiteral("One run: give several runs to compare them in a table.")));
    for (const auto& run : data.runs) {
        doc.push_back(text(Block::Kind::Section, QStringLiteral("Run ") + run.name));
        doc.push_back(text(Block::Kind::Text, q(run.dir.string())));
        settings(doc, run);
        losses(doc, run);
        samples(doc, run);
        metrics(doc, run);
        overSteps(doc, run);
        sweep(doc, run);
        memorisation(doc, run);
        asClassifier(doc, run);
    }
    for (const auto& study : data.studies) studySection(doc, study);
    return doc;
}

}  // namespace ll::report
