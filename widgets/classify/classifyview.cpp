#include "classify/classifyview.h"

#include <QStackedWidget>
#include <QVBoxLayout>

#include "classify/curveview.h"
#include "classify/diffusionview.h"
#include "classify/oneclassview.h"
#include "classify/rebalanceview.h"

namespace ll::widgets {

ClassifyView::ClassifyView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("classifyView"));
    m_diffusion = new DiffusionView;
    m_curve = new CurveView;
    m_oneClass = new OneClassView;
    m_rebalance = new RebalanceView;
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_diffusion);
    m_stack->addWidget(m_curve);
    m_stack->addWidget(m_oneClass);
    m_stack->addWidget(m_rebalance);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

StudyPage* ClassifyView::page(StudyKind kind) const {
    return qobject_cast<StudyPage*>(m_stack->widget(int(kind)));
}

void ClassifyView::showStudy(StudyKind kind) {
    m_study = kind;
    m_stack->setCurrentIndex(int(kind));
}

}  // namespace ll::widgets
