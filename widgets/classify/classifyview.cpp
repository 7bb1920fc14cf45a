#include "classify/classifyview.h"

#include <QStackedWidget>
#include <QVBoxLayout>

#include "classify/curveview.h"
#include "classify/diffusionview.h"
#include "classify/oneclassview.h"

namespace ll::widgets {

ClassifyView::ClassifyView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("classifyView"));
    m_diffusion = new DiffusionView;
    m_curve = new CurveView;
    m_oneClass = new OneClassView;
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_diffusion);
    m_stack->addWidget(m_curve);
    m_stack->addWidget(m_oneClass);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

void ClassifyView::showStudy(StudyKind kind) {
    m_study = kind;
    m_stack->setCurrentIndex(int(kind));
}

}  // namespace ll::widgets
