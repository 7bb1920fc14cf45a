#pragma once

#include <QDoubleSpinBox>

namespace ll::widgets {

/// A spin box for numbers that span decades (learning rates): shows "0.0002" or "5e-07" with
/// six significant digits, takes typed scientific notation, and steps by a factor (up and
/// down by one decade in `stepsPerDecade` steps) instead of a fixed amount.
class ScientificSpinBox : public QDoubleSpinBox {
    Q_OBJECT
public:
    explicit ScientificSpinBox(QWidget* parent = nullptr);

    void setStepsPerDecade(int steps) { m_stepsPerDecade = steps > 0 ? steps : 1; }

    QString textFromValue(double value) const override;
    double valueFromText(const QString& text) const override;
    QValidator::State validate(QString& text, int& pos) const override;
    void stepBy(int steps) override;

private:
    int m_stepsPerDecade = 4;
};

}  // namespace ll::widgets
