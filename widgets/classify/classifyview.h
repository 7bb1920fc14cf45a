#pragma once

#include <QWidget>

#include "classify/studyfolders.h"

class QStackedWidget;

namespace ll::widgets {
class StudyPage;
}

namespace ll::widgets {

class CurveView;
class DiffusionView;
class OneClassView;
class RebalanceView;

/// The Classify mode's centre: the result of the study the panel shows, one page per study
/// (each keeps its result while another is shown).
class ClassifyView : public QWidget {
    Q_OBJECT
public:
    explicit ClassifyView(QWidget* parent = nullptr);

    void showStudy(StudyKind kind);
    StudyKind study() const { return m_study; }
    /// The page of `kind`.
    StudyPage* page(StudyKind kind) const;
    DiffusionView* diffusionView() const { return m_diffusion; }
    CurveView* curveView() const { return m_curve; }
    OneClassView* oneClassView() const { return m_oneClass; }
    RebalanceView* rebalanceView() const { return m_rebalance; }

private:
    QStackedWidget* m_stack;
    DiffusionView* m_diffusion;
    CurveView* m_curve;
    OneClassView* m_oneClass;
    RebalanceView* m_rebalance;
    StudyKind m_study = StudyKind::Diffusion;
};

}  // namespace ll::widgets
