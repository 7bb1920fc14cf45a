#include "classify/studyfolders.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include "study/diffusionclassifier.h"

namespace ll::widgets {

namespace {

QString studiesDir(const std::filesystem::path& workspace) {
    return QDir(QString::fromStdString(workspace.string())).filePath(QStringLiteral("studies"));
}

}  // namespace

QString studyKey(StudyKind kind) {
    switch (kind) {
        case StudyKind::Diffusion:
            return QStringLiteral("diffusion-classifier");
        case StudyKind::LearningCurve:
            return QStringLiteral("learning-curve");
        case StudyKind::OneClass:
            return QStringLiteral("oneclass");
        case StudyKind::Rebalance:
            return QStringLiteral("rebalance");
    }
    return {};
}

QString studyTitle(StudyKind kind) {
    switch (kind) {
        case StudyKind::Diffusion:
            return QCoreApplication::translate("Classify", "Diffusion classifier");
        case StudyKind::LearningCurve:
            return QCoreApplication::translate("Classify",
                                               "Learning curve: generative vs "
                                               "discriminative");
        case StudyKind::OneClass:
            return QCoreApplication::translate("Classify", "One-class detection");
        case StudyKind::Rebalance:
            return QCoreApplication::translate("Classify", "Imbalance lab: SMOTE vs generators");
    }
    return {};
}

StudyFolder studyAt(const QString& folder) {
    StudyFolder s;
    if (folder.isEmpty() || !QFileInfo(folder).isDir()) return s;
    s.path = folder;
    const QDir dir(folder);
    s.finished = QFileInfo::exists(dir.filePath(QStringLiteral("result.json")));
    const QDir parts(dir.filePath(QStringLiteral("parts")));
    s.interrupted =
        !s.finished && parts.exists() && !parts.isEmpty(QDir::Files | QDir::NoDotAndDotDot);
    return s;
}

QString newStudyFolder(const std::filesystem::path& workspace, StudyKind kind) {
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    return QDir(studiesDir(workspace)).filePath(studyKey(kind) + QLatin1Char('-') + stamp);
}

StudyFolder latestStudy(const std::filesystem::path& workspace, StudyKind kind, bool finishedOnly) {
    // yyyyMMdd-HHmmss sorts by time: the last name is the newest.
    const QStringList names = QDir(studiesDir(workspace))
                                  .entryList({studyKey(kind) + QStringLiteral("-*")},
                                             QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        StudyFolder s = studyAt(QDir(studiesDir(workspace)).filePath(*it));
        if (!finishedOnly || s.finished) return s;
    }
    return {};
}

QString wrappable(const QString& text) {
    QString out = text;
    return out.replace(QLatin1Char('/'), QStringLiteral("/\u200b"));
}

QString diffusionStudyFolder(const QString& run) {
    if (run.isEmpty()) return {};
    return QString::fromStdString(ll::diffusionClassifierFolder(run.toStdString()).string());
}

}  // namespace ll::widgets
