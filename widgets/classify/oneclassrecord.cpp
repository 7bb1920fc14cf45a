#include "classify/oneclassrecord.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace ll::widgets {

namespace {

ll::Result<QJsonObject> readObject(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return ll::fail(file.toStdString() + ": " + f.errorString().toStdString());
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    if (!doc.isObject())
        return ll::fail(file.toStdString() + ": not a JSON object (" +
                        error.errorString().toStdString() + ")");
    return doc.object();
}

std::vector<double> numbers(const QJsonValue& v) {
    std::vector<double> out;
    for (const QJsonValue& x : v.toArray()) out.push_back(x.toDouble());
    return out;
}

}  // namespace

ll::Result<ll::OneClassResult> readOneClassResult(const QString& folder) {
    const QDir dir(folder);
    auto record = readObject(dir.filePath(QStringLiteral("result.json")));
    if (!record) return tl::unexpected(record.error());
    const QJsonObject& r = *record;
    ll::OneClassResult result;
    result.out = folder.toStdString();
    result.normalClass = r.value(QStringLiteral("normal")).toString().toStdString();
    for (const QJsonValue& c : r.value(QStringLiteral("classes")).toArray())
        result.classes.push_back(c.toString().toStdString());
    result.features = r.value(QStringLiteral("features")).toString().toStdString();
    const QJsonObject counts = r.value(QStringLiteral("counts")).toObject();
    result.trainRows = counts.value(QStringLiteral("train")).toInteger();
    result.validationRows = counts.value(QStringLiteral("validation")).toInteger();
    result.testNormal = counts.value(QStringLiteral("test_normal")).toInteger();
    result.testAnomalous = counts.value(QStringLiteral("test_anomalous")).toInteger();

    const QJsonObject models = r.value(QStringLiteral("models")).toObject();
    // The models in the study's order (vae, chaotic-vae, mahalanobis), not the keys' order.
    for (auto model :
         {ll::OneClassModel::Vae, ll::OneClassModel::ChaoticVae, ll::OneClassModel::Mahalanobis}) {
        const QString name = QString::fromStdString(ll::oneClassModelName(model));
        if (!models.contains(name)) continue;
        const QJsonObject m = models.value(name).toObject();
        ll::OneClassSummary s{.model = model};
        s.headline = m.value(QStringLiteral("headline")).toString().toStdString();
        for (const QJsonValue& seed : m.value(QStringLiteral("seeds")).toArray())
            s.seeds.push_back(std::uint64_t(seed.toInteger()));
        s.aurocs = numbers(m.value(QStringLiteral("aurocs")));
        s.rates = numbers(m.value(QStringLiteral("rates")));
        s.aurocMean = m.value(QStringLiteral("auroc_mean")).toDouble();
        s.aurocSd = m.value(QStringLiteral("auroc_sd")).toDouble();
        s.rateMean = m.value(QStringLiteral("rate_mean")).toDouble();
        s.rateSd = m.value(QStringLiteral("rate_sd")).toDouble();
        const QJsonObject scores = m.value(QStringLiteral("scores")).toObject();
        for (auto it = scores.begin(); it != scores.end(); ++it)
            s.scoreAurocMean[it.key().toStdString()] =
                it.value().toObject().value(QStringLiteral("auroc_mean")).toDouble();
        // The curves live in the first seed's part.
        if (!s.seeds.empty()) {
            const QString part = dir.filePath(
                QStringLiteral("parts/%1-seed%2.json").arg(name).arg(qulonglong(s.seeds.front())));
            if (auto p = readObject(part)) {
                ll::OneClassRun run{.model = model, .seed = s.seeds.front()};
                run.headlineAuroc = p->value(QStringLiteral("headline_auroc")).toDouble();
                run.averagePrecision = p->value(QStringLiteral("average_precision")).toDouble();
                run.rate = p->value(QStringLiteral("rate")).toDouble();
                const QJsonObject roc = p->value(QStringLiteral("roc")).toObject();
                run.roc.fpr = numbers(roc.value(QStringLiteral("fpr")));
                run.roc.tpr = numbers(roc.value(QStringLiteral("tpr")));
                run.roc.auc = run.headlineAuroc;
                const QJsonObject pr = p->value(QStringLiteral("pr")).toObject();
                run.pr.precision = numbers(pr.value(QStringLiteral("precision")));
                run.pr.recall = numbers(pr.value(QStringLiteral("recall")));
                run.pr.averagePrecision = run.averagePrecision;
                result.runs.push_back(std::move(run));
            }
        }
        result.models.push_back(std::move(s));
    }
    if (const QJsonValue t = r.value(QStringLiteral("ttest")); t.isObject()) {
        const QJsonObject o = t.toObject();
        result.ttest = ll::stats::TTest{.t = o.value(QStringLiteral("t")).toDouble(),
                                        .df = o.value(QStringLiteral("df")).toDouble(),
                                        .p = o.value(QStringLiteral("p")).toDouble()};
    }
    result.resumedParts = r.value(QStringLiteral("resumed_parts")).toInt();
    for (const QJsonValue& c : r.value(QStringLiteral("charts")).toArray())
        result.charts.push_back(dir.filePath(c.toString()).toStdString());
    if (const QString a = r.value(QStringLiteral("anomalies")).toString(); !a.isEmpty())
        result.anomalies = dir.filePath(a).toStdString();
    return result;
}

}  // namespace ll::widgets
