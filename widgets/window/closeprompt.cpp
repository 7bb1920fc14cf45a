#include "window/closeprompt.h"

#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>

namespace ll::widgets {

CloseChoice askHowToClose(QWidget* parent, const QString& runDir, std::int64_t step,
                          std::int64_t totalSteps) {
    QMessageBox box(parent);
    box.setObjectName(QStringLiteral("closePrompt"));
    box.setIcon(QMessageBox::Question);
    box.setWindowTitle(QObject::tr("Training is running"));
    box.setText(QObject::tr("<b>%1</b> is training, at step %2 of %3.")
                    .arg(QFileInfo(runDir).fileName().toHtmlEscaped())
                    .arg(step)
                    .arg(totalSteps));
    box.setInformativeText(QObject::tr(
        "Either way the run saves a checkpoint first, so nothing is lost.\n\n"
        "Stop: the run stops; Continue training in the runs browser resumes it.\n"
        "Keep training: the run goes on without the window (latentlab-cli, printing to the "
        "run's background.log). The next window finds it and shows it live, and can stop it."));
    auto* stop = box.addButton(QObject::tr("Stop training"), QMessageBox::AcceptRole);
    stop->setObjectName(QStringLiteral("closeStopButton"));
    auto* background =
        box.addButton(QObject::tr("Keep training in the background"), QMessageBox::AcceptRole);
    background->setObjectName(QStringLiteral("closeBackgroundButton"));
    auto* cancel = box.addButton(QMessageBox::Cancel);
    cancel->setObjectName(QStringLiteral("closeCancelButton"));
    box.setDefaultButton(stop);
    box.setEscapeButton(cancel);
    box.exec();
    if (box.clickedButton() == stop) return CloseChoice::Stop;
    if (box.clickedButton() == background) return CloseChoice::Background;
    return CloseChoice::Cancel;
}

}  // namespace ll::widgets
