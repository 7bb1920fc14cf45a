#pragma once

#include <filesystem>

#include <QStringList>
#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace ll::widgets {

/// The runs browser on the left: every run in the workspace with its model, dataset, steps,
/// status and last metrics. One selected run emits runSelected; several emit
/// compareRequested (their loss curves go on one chart). Continue and Sample act on the
/// selected run, from the buttons or the context menu. A run another process trains says so
/// in its status (by whom), and Stop asks that process to stop.
class RunsBrowser : public QWidget {
    Q_OBJECT
public:
    explicit RunsBrowser(QWidget* parent = nullptr);

    void setWorkspace(const std::filesystem::path& workspace);
    const std::filesystem::path& workspace() const { return m_workspace; }
    int runCount() const;
    /// Run folders, newest first, as listed.
    QStringList runs() const;
    QStringList selectedRuns() const;
    /// What the browser says in place of the list while the workspace has no runs.
    QString emptyText() const;
    /// Selects these run folders (as a user's click or ctrl-click would).
    void selectRuns(const QStringList& runDirs);

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    void runSelected(const QString& runDir);
    void compareRequested(const QStringList& runDirs);
    void continueRequested(const QString& runDir);
    void sampleRequested(const QString& runDir);
    /// Stop the training another process runs on it (it saves a checkpoint first).
    void stopRequested(const QString& runDir);

private:
    void onSelectionChanged();
    void updateButtons();
    void showContextMenu(const QPoint& pos);
    QString singleSelection() const;

    std::filesystem::path m_workspace;
    QTreeWidget* m_tree;
    QLabel* m_empty;  // in place of the list while there is no run
    QPushButton* m_continue;
    QPushButton* m_sample;
    QPushButton* m_stop;
};

}  // namespace ll::widgets
