#pragma once

#include <initializer_list>

#include <QWidget>

class QLabel;
class QSplitter;
class QStackedWidget;

namespace ll::widgets {

/// What the study views in the centre share: a message while there is no result (what
/// to do, what runs, why not), else the result page, a caption over the charts and numbers.
class StudyPage : public QWidget {
    Q_OBJECT
public:
    /// Shown in place of the result page; plain text (its label is "studyMessage").
    void setMessage(const QString& text);
    bool hasResult() const { return m_hasResult; }

protected:
    explicit StudyPage(QWidget* parent);
    /// The result page: `caption` over `body`. Called once, by the view's constructor.
    void setPage(QWidget* caption, QWidget* body);
    /// Shows the result page; hasResult() is true from now on.
    void showResult();

private:
    QStackedWidget* m_stack;
    QLabel* m_message;
    bool m_hasResult = false;
};

/// A splitter of `widgets` in `orientation`, each with its stretch factor.
QSplitter* splitOf(Qt::Orientation orientation, std::initializer_list<QWidget*> widgets,
                   std::initializer_list<int> stretches);

}  // namespace ll::widgets
