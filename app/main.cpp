// latentlab: the desktop workbench. Creates the application, the Vulkan instance (which must
// outlive every window) and the main window; everything else lives in the widgets.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <QVulkanInstance>

#include "common/cpu.h"
#include "data/datapanel.h"
#include "run/runfolder.h"
#include "window/mainwindow.h"

int main(int argc, char** argv) {
    ll::applyCpuSettings();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("LatentLab"));
    QApplication::setApplicationName(QStringLiteral("LatentLab"));
    QApplication::setApplicationVersion(QStringLiteral("0.1"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("LatentLab: a workbench for generative models"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption dataset(
        QStringLiteral("dataset"),
        QStringLiteral(
            "Dataset to load at start: fashion-mnist, a .csv file, an IDX file or folder, "
            "an image folder."),
        QStringLiteral("source"));
    QCommandLineOption workspace(QStringLiteral("workspace"),
                                 QStringLiteral("Folder that holds runs/ (default ~/LatentLab)."),
                                 QStringLiteral("dir"));
    QCommandLineOption train(QStringLiteral("train"),
                             QStringLiteral("Start training the first preset at once."));
    parser.addOptions({dataset, workspace, train});
    parser.process(app);

    // No Vulkan (no loader, no device) is not an error: the grid falls back to QPainter.
    QVulkanInstance vulkan;
    vulkan.setApiVersion(QVersionNumber(1, 0));
    const bool haveVulkan = vulkan.create();

    const std::filesystem::path ws =
        parser.isSet(workspace) ? std::filesystem::path(parser.value(workspace).toStdString())
                                : ll::defaultWorkspace();
    ll::widgets::MainWindow window(haveVulkan ? &vulkan : nullptr, ws);
    window.resize(1400, 900);
    window.show();

    if (parser.isSet(dataset)) {
        ll::DatasetSpec spec;
        spec.source = parser.value(dataset).toStdString();
        window.dataPanel()->setSpec(spec);
        window.dataPanel()->load();
    }
    if (parser.isSet(train))
        QTimer::singleShot(0, &window, &ll::widgets::MainWindow::startTraining);
    return app.exec();
}
