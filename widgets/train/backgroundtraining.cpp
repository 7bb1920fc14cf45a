#include "train/backgroundtraining.h"

#include <csignal>

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QThread>

#include "run/runfolder.h"
#include "run/runlock.h"

namespace ll::widgets {

namespace {

// The last line the process wrote to its log: why it ended, when it ended early.
QString lastLine(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    if (f.size() > 4096) f.seek(f.size() - 4096);
    const QStringList lines =
        QString::fromUtf8(f.readAll())
            .split(QRegularExpression(QStringLiteral("[\r\n]")), Qt::SkipEmptyParts);
    return lines.isEmpty() ? QString() : lines.back().trimmed();
}

// Running, not a zombie: a detached process is nobody's child here, but be sure.
bool alive(qint64 pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0) return false;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) return true;
    const QByteArray text = stat.readAll();
    const auto close = text.lastIndexOf(')');
    return close < 0 || close + 2 >= text.size() || text[close + 2] != 'Z';
}

}  // namespace

QString BackgroundTraining::cliPath() {
    if (const QString forced = qEnvironmentVariable("LATENTLAB_CLI"); !forced.isEmpty())
        return forced;
    return QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("latentlab-cli"));
}

ll::Result<std::int64_t> BackgroundTraining::start(const QString& runDir, std::int64_t totalSteps,
                                                   int patienceMs) {
    return launch({QStringLiteral("train"), QStringLiteral("--resume"), runDir,
                   QStringLiteral("--steps"), QString::number(totalSteps)},
                  runDir, patienceMs);
}

ll::Result<std::int64_t> BackgroundTraining::launch(const QStringList& arguments,
                                                    const QString& runDir, int patienceMs) {
    const QString cli = cliPath();
    if (!QFileInfo(cli).isExecutable())
        return ll::fail("cannot train in the background: " + cli.toStdString() +
                        " is not there; continue the run from the runs browser instead");
    const std::filesystem::path run = runDir.toStdString();
    const QString log = QString::fromStdString((run / ll::runfiles::kBackgroundLog).string());
    QProcess process;
    process.setProgram(cli);
    process.setArguments(arguments);
    process.setWorkingDirectory(runDir);
    process.setStandardOutputFile(log, QIODevice::Append);
    process.setStandardErrorFile(log, QIODevice::Append);
    qint64 pid = 0;
    if (!process.startDetached(&pid))
        return ll::fail("cannot start " + cli.toStdString() + ": " +
                        process.errorString().toStdString());
    // It loads the data and the checkpoint before it takes the lock.
    const QDeadlineTimer deadline(patienceMs);
    while (!deadline.hasExpired()) {
        if (const auto owner = ll::RunLock::owner(run); owner && owner->pid == pid) return pid;
        if (!alive(pid)) {
            const QString why = lastLine(log);
            return ll::fail("the background training ended at once" +
                            (why.isEmpty() ? std::string() : ": " + why.toStdString()) +
                            " (its log: " + log.toStdString() + ")");
        }
        QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents, 50);
        QThread::msleep(50);
    }
    return ll::fail("the background training (pid " + std::to_string(pid) +
                    ") did not start training within " + std::to_string(patienceMs / 1000) +
                    " s; see " + log.toStdString());
}

}  // namespace ll::widgets
