#include "report/studyreport.h"

#include <algorithm>
#include <system_error>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include "classify/oneclassrecord.h"

namespace ll::report {

namespace fs = std::filesystem;

namespace {

constexpr const char* kResult = "result.json";

QString qpath(const fs::path& p) {
    return QString::fromStdString(p.string());
}

// result.json's "study", or empty when it has none or is not JSON (the reader then says why).
std::string declaredKind(const fs::path& resultJson) {
    QFile file(qpath(resultJson));
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll());
    return doc.object().value(QStringLiteral("study")).toString().toStdString();
}

bool isKind(const std::string& kind) {
    const auto kinds = studyKinds();
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// "rebalance-20260101-000000" is a rebalance study; so is a folder named "rebalance".
std::string kindOfName(const std::string& name) {
    for (const auto& kind : studyKinds())
        if (name == kind || name.starts_with(kind + "-")) return kind;
    return {};
}

std::string knownKinds() {
    std::string list;
    for (const auto& kind : studyKinds()) list += (list.empty() ? "" : ", ") + kind;
    return list;
}

void addImage(StudyReport& study, const fs::path& file) {
    if (file.empty()) return;
    QImage image(qpath(file));
    if (!image.isNull()) study.images[file.filename().string()] = std::move(image);
}

Result<void> readResult(StudyReport& study) {
    const fs::path json = study.folder / kResult;
    if (study.kind == "rebalance") {
        auto r = readRebalance(json);
        if (!r) return fail(r.error().message);
        addImage(study, r->metricsChart);
        addImage(study, r->recallChart);
        for (const auto& [method, figure] : r->samples) addImage(study, figure);
        study.result = std::move(*r);
    } else if (study.kind == "learning-curve") {
        auto r = readLearningCurve(json);
        if (!r) return fail(r.error().message);
        addImage(study, r->chart);
        study.result = std::move(*r);
    } else {
        auto r = widgets::readOneClassResult(qpath(study.folder));
        if (!r) return fail(r.error().message);
        for (const auto& chart : r->charts) addImage(study, chart);
        if (r->anomalies.extension() == ".png") addImage(study, r->anomalies);
        study.result = std::move(*r);
    }
    return {};
}

}  // namespace

QImage StudyReport::image(const fs::path& file) const {
    const auto it = images.find(file.filename().string());
    return it == images.end() ? QImage() : it->second;
}

std::vector<std::string> studyKinds() {
    return {"rebalance", "learning-curve", "oneclass"};
}

fs::path absoluteFolder(const fs::path& dir) {
    std::error_code ec;
    fs::path out = fs::absolute(dir, ec).lexically_normal();
    if (out.filename().empty()) out = out.parent_path();  // "run/"
    return out;
}

Result<StudyReport> loadStudy(const fs::path& folder) {
    std::error_code ec;
    if (!fs::exists(folder, ec)) return fail(folder.string() + ": no such study folder");
    if (!fs::is_directory(folder, ec)) return fail(folder.string() + ": not a folder");
    if (!fs::exists(folder / kResult, ec))
        return fail(folder.string() + ": not a finished study (no " + kResult + ")");
    StudyReport study;
    study.folder = absoluteFolder(folder);
    study.name = QString::fromStdString(study.folder.filename().string());
    // The record says what it is; a folder name says it for a record that does not.
    study.kind = declaredKind(folder / kResult);
    if (!isKind(study.kind)) study.kind = kindOfName(study.folder.filename().string());
    if (study.kind.empty())
        return fail(folder.string() + ": not a study of a kind the report knows (" + knownKinds() +
                    ")");
    if (auto ok = readResult(study); !ok) return fail(ok.error().message);
    return study;
}

std::vector<fs::path> latestStudies(const fs::path& workspace) {
    std::error_code ec;
    std::vector<fs::path> names;
    for (const auto& entry : fs::directory_iterator(workspace / "studies", ec))
        if (entry.is_directory(ec) && fs::exists(entry.path() / kResult, ec))
            names.push_back(entry.path());
    // <kind>-yyyyMMdd-HHmmss sorts by time: the greatest name of a kind is its newest.
    std::sort(names.begin(), names.end());
    std::vector<fs::path> latest;
    for (const auto& kind : studyKinds()) {
        const auto newest = std::find_if(names.rbegin(), names.rend(), [&](const fs::path& p) {
            return p.filename().string().starts_with(kind + "-");
        });
        if (newest != names.rend()) latest.push_back(*newest);
    }
    return latest;
}

}  // namespace ll::report
