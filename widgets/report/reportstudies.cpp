// The report's study sections: the imbalance lab, the learning curve and one-class detection
// of the workspace, from the result.json and the PNGs that core wrote (report/studyreport.h).
// Their charts are core's pictures, not the window's widgets: the same ones the study folder
// holds.
#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>
#include <utility>
#include <variant>

#include "eval/evaluate.h"
#include "report/reportblocks.h"
#include "report/studyreport.h"

namespace ll::report {

namespace {

using namespace blocks;

// "0.912 ± 0.020": three decimals for scores in [0, 1], so that columns line up.
QString meanSd(double mean, double sd) {
    if (!std::isfinite(mean)) return number(mean);
    QString cell = QString::number(mean, 'f', 3);
    if (std::isfinite(sd)) cell += QStringLiteral(" ± ") + QString::number(sd, 'f', 3);
    return cell;
}

QString joined(const std::vector<std::string>& items) {
    QStringList out;
    for (const auto& item : items) out << q(item);
    return out.join(QStringLiteral(", "));
}

std::int64_t at(const std::vector<std::int64_t>& counts, std::size_t k) {
    return k < counts.size() ? counts[k] : 0;
}

void header(Document& doc, const QString& title, const StudyReport& study) {
    doc.push_back(text(Block::Kind::Section, title + QLatin1Char(' ') + study.name));
    doc.push_back(text(Block::Kind::Text, q(study.folder.string())));
}

void picture(Document& doc, const StudyReport& study, const char* file, const QString& caption) {
    if (const QImage png = study.image(file); !png.isNull()) doc.push_back(image(png, {}, caption));
}

void notes(Document& doc, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Notes")));
    for (const auto& line : lines) doc.push_back(text(Block::Kind::Text, q(line)));
}

// ---- The imbalance lab ----

void rebalance(Document& doc, const StudyReport& study, const RebalanceResult& r) {
    header(doc, QStringLiteral("Imbalance lab"), study);
    const std::size_t seeds = r.methods.empty() ? 0 : r.methods.front().perSeed.size();
    doc.push_back(text(
        Block::Kind::Text,
        QStringLiteral("The training %1 made imbalanced (%2; minority: %3). Each method "
                       "rebalanced it; the same %4 classifier was trained on the result over %5 "
                       "seed(s) and scored on %6. Scores: mean ± sd over the seeds.")
            .arg(r.images ? QStringLiteral("images were") : QStringLiteral("rows were"),
                 q(r.imbalance), joined(r.minority), q(r.classifier))
            .arg(seeds)
            .arg(q(r.heldOut))));

    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Training rows per class")));
    QStringList head{QStringLiteral("class"), QStringLiteral("before"),
                     QStringLiteral("imbalanced")};
    for (const auto& m : r.methods) head << QStringLiteral("after ") + q(m.method);
    head << QStringLiteral("held out");
    const std::set<std::string> minority(r.minority.begin(), r.minority.end());
    std::vector<QStringList> rows;
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        QStringList row{
            q(r.classes[k]) +
                (minority.contains(r.classes[k]) ? QStringLiteral(" (minority)") : QString()),
            QString::number(at(r.originalCounts, k)), QString::number(at(r.counts, k))};
        for (const auto& m : r.methods) row << QString::number(at(m.trainCounts, k));
        row << QString::number(at(r.heldOutCounts, k));
        rows.push_back(row);
    }
    doc.push_back(table(head, std::move(rows)));

    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Scores on the held-out part")));
    head = {QStringLiteral("method")};
    for (const auto& metric : rebalanceMetrics()) head << q(rebalanceMetricLabel(metric));
    head << QStringLiteral("rows added");
    rows.clear();
    for (const auto& m : r.methods) {
        QStringList row{q(m.method)};
        for (const auto& metric : rebalanceMetrics()) {
            const auto mean = m.mean.find(metric), sd = m.sd.find(metric);
            row << (mean == m.mean.end()
                        ? number(kNoValue)
                        : meanSd(mean->second, sd == m.sd.end() ? kNoValue : sd->second));
        }
        row << QString::number(m.synthetic);
        rows.push_back(row);
    }
    doc.push_back(table(head, std::move(rows)));
    picture(doc, study, "metrics.png", QStringLiteral("Each method's scores; whiskers: one sd."));

    doc.push_back(text(Block::Kind::Heading, QStringLiteral("Per-class recall")));
    head = {QStringLiteral("class")};
    for (const auto& m : r.methods) head << q(m.method);
    rows.clear();
    for (std::size_t k = 0; k < r.classes.size(); ++k) {
        QStringList row{q(r.classes[k])};
        for (const auto& m : r.methods)
            row << (k < m.perClassRecall.size()
                        ? meanSd(m.perClassRecall[k],
                                 k < m.perClassRecallSd.size() ? m.perClassRecallSd[k] : kNoValue)
                        : number(kNoValue));
        rows.push_back(row);
    }
    doc.push_back(table(head, std::move(rows)));
    picture(doc, study, "per-class-recall.png",
            QStringLiteral("Recall of each class under each method; whiskers: one sd."));

    bool heading = false;
    for (const auto& m : r.methods) {
        const auto figure = r.samples.find(m.method);
        const QImage png = figure == r.samples.end() ? QImage() : study.image(figure->second);
        if (png.isNull()) continue;
        if (!std::exchange(heading, true))
            doc.push_back(text(Block::Kind::Heading, QStringLiteral("Synthetic minority samples")));
        const bool smote = m.method.find("smote") != std::string::npos;
        doc.push_back(image(png, {},
                            q(m.method) + (smote ? QStringLiteral(": each synthetic sample "
                                                                  "between its two parents.")
                                                 : QStringLiteral(": generated samples beside "
                                                                  "their nearest real minority "
                                                                  "sample."))));
    }
    if (!heading && !r.images)
        doc.push_back(
            text(Block::Kind::Note,
                 QStringLiteral("A table: the rows the methods added are not pictured.")));
    notes(doc, r.notes);
}

// ---- The learning curve ----

void learningCurve(Document& doc, const StudyReport& study, const LearningCurveResult& r) {
    header(doc, QStringLiteral("Learning curve"), study);
    const std::size_t seeds = r.curves.empty() ? 0 : r.curves.front().accuracies.size();
    QString features = q(r.features);
    if (r.featureDim > 0) features += QStringLiteral(", %1 dimensions").arg(r.featureDim);
    doc.push_back(
        text(Block::Kind::Text,
             QStringLiteral("Held-out accuracy of classifiers trained on class-balanced subsets "
                            "of %1 training rows (%2 classes), mean ± sd over %3 seed(s), scored "
                            "on %4 (%5 rows). Features: %6.")
                 .arg(r.trainRows)
                 .arg(r.classes.size())
                 .arg(seeds)
                 .arg(q(r.heldOut))
                 .arg(r.heldOutRows)
                 .arg(features)));
    std::vector<std::string> methods;
    std::set<std::int64_t> sizes;
    for (const auto& p : r.curves) {
        if (std::find(methods.begin(), methods.end(), p.method) == methods.end())
            methods.push_back(p.method);
        sizes.insert(p.size);
    }
    QStringList head{QStringLiteral("rows per class")};
    for (const auto& m : methods) head << q(m);
    std::vector<QStringList> rows;
    for (const std::int64_t size : sizes) {
        QStringList row{QString::number(size)};
        for (const auto& m : methods) {
            const auto p = std::find_if(r.curves.begin(), r.curves.end(), [&](const CurvePoint& c) {
                return c.method == m && c.size == size;
            });
            row << (p == r.curves.end() ? QString() : meanSd(p->mean, p->sd));
        }
        rows.push_back(row);
    }
    doc.push_back(table(head, std::move(rows)));
    if (!r.crossings.empty()) {
        rows.clear();
        for (const auto& c : r.crossings)
            rows.push_back({q(c.generative), q(c.discriminative),
                            c.found ? QStringLiteral("at %1 rows per class (accuracy %2)")
                                          .arg(number(c.size, 3), meanSd(c.accuracy, kNoValue))
                                    : q(c.note)});
        doc.push_back(table({QStringLiteral("generative"), QStringLiteral("against"),
                             QStringLiteral("where it stops being better")},
                            std::move(rows)));
    }
    picture(doc, study, "learning-curve.png",
            QStringLiteral("Accuracy against rows per class (log scale); bands: one sd."));
    notes(doc, r.notes);
}

// ---- One-class detection ----

void oneClass(Document& doc, const StudyReport& study, const OneClassResult& r) {
    header(doc, QStringLiteral("One-class detection"), study);
    doc.push_back(text(Block::Kind::Text,
                       QStringLiteral("Normal class %1 of %2 classes. Trained on %3 normal rows, "
                                      "the threshold from %4 validation rows; tested on %5 "
                                      "normal and %6 anomalous rows. The baseline's features: "
                                      "%7.")
                           .arg(q(r.normalClass))
                           .arg(r.classes.size())
                           .arg(r.trainRows)
                           .arg(r.validationRows)
                           .arg(r.testNormal)
                           .arg(r.testAnomalous)
                           .arg(r.features.empty() ? number(kNoValue) : q(r.features))));
    std::vector<QStringList> rows;
    for (const auto& m : r.models) {
        QStringList scores;
        for (const auto& [score, auroc] : m.scoreAurocMean)
            scores << q(score) + QLatin1Char(' ') + QString::number(auroc, 'f', 3);
        rows.push_back({q(oneClassModelName(m.model)), q(m.headline),
                        meanSd(m.aurocMean, m.aurocSd), meanSd(m.rateMean, m.rateSd),
                        QString::number(m.seeds.size()), scores.join(QStringLiteral(", "))});
    }
    doc.push_back(table({QStringLiteral("model"), QStringLiteral("headline score"),
                         QStringLiteral("AUROC"), QStringLiteral("accuracy at the threshold"),
                         QStringLiteral("seeds"), QStringLiteral("AUROC of every score")},
                        std::move(rows)));
    if (r.ttest)
        doc.push_back(
            text(Block::Kind::Text,
                 QStringLiteral("chaotic-vae against vae (headline AUROC per seed): "
                                "t = %1, df = %2, p = %3.")
                     .arg(number(r.ttest->t, 3), number(r.ttest->df, 3), number(r.ttest->p, 3))));
    picture(doc, study, "roc.png", QStringLiteral("ROC of the headline scores (first seed)."));
    picture(doc, study, "pr.png",
            QStringLiteral("Precision against recall of the headline scores (first seed)."));
    picture(doc, study, "auroc_seeds.png", QStringLiteral("Headline AUROC per seed."));
    picture(doc, study, "anomalies.png", QStringLiteral("The most anomalous test rows."));
}

}  // namespace

void studySection(Document& doc, const StudyReport& study) {
    std::visit(
        [&](const auto& result) {
            using T = std::decay_t<decltype(result)>;
            if constexpr (std::is_same_v<T, RebalanceResult>)
                rebalance(doc, study, result);
            else if constexpr (std::is_same_v<T, LearningCurveResult>)
                learningCurve(doc, study, result);
            else
                oneClass(doc, study, result);
        },
        study.result);
}

}  // namespace ll::report
