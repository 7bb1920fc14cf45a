#pragma once

#include <filesystem>

#include <QWidget>

class QTreeWidget;

namespace ll::widgets {

/// The runs browser on the left: every run in the workspace with its model, dataset, steps,
/// status and last loss. Selecting a run emits runSelected with its folder.
class RunsBrowser : public QWidget {
    Q_OBJECT
public:
    explicit RunsBrowser(QWidget* parent = nullptr);

    void setWorkspace(const std::filesystem::path& workspace);
    const std::filesystem::path& workspace() const { return m_workspace; }
    int runCount() const;

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    void runSelected(const QString& runDir);

private:
    std::filesystem::path m_workspace;
    QTreeWidget* m_tree;
};

}  // namespace ll::widgets
