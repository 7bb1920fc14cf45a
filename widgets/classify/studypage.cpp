#include "classify/studypage.h"

#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace ll::widgets {

StudyPage::StudyPage(QWidget* parent) : QWidget(parent) {
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("studyMessage"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);  // messages carry paths and core's errors
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_message);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

void StudyPage::setPage(QWidget* caption, QWidget* body) {
    auto* page = new QWidget;
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(8, 4, 8, 4);
    pageLayout->addWidget(caption);
    pageLayout->addWidget(body, 1);
    m_stack->addWidget(page);
}

void StudyPage::setMessage(const QString& text) {
    m_message->setText(text);
    m_stack->setCurrentWidget(m_message);
}

void StudyPage::showResult() {
    m_hasResult = true;
    m_stack->setCurrentIndex(1);
}

QSplitter* splitOf(Qt::Orientation orientation, std::initializer_list<QWidget*> widgets,
                   std::initializer_list<int> stretches) {
    auto* split = new QSplitter(orientation);
    for (auto* w : widgets) split->addWidget(w);
    int i = 0;
    for (int s : stretches) split->setStretchFactor(i++, s);
    return split;
}

}  // namespace ll::widgets
