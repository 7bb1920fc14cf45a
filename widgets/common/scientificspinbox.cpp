#include "common/scientificspinbox.h"

#include <cmath>

#include <QRegularExpression>

namespace ll::widgets {

ScientificSpinBox::ScientificSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
    // QDoubleSpinBox rounds every value to decimals(): keep enough that 1e-12 survives.
    setDecimals(15);
}

QString ScientificSpinBox::textFromValue(double value) const {
    // Written as valueFromText reads it: in the widget's locale (a German "0,001").
    return locale().toString(value, 'g', 6);
}

double ScientificSpinBox::valueFromText(const QString& text) const {
    bool ok = false;
    const double v = locale().toDouble(text.trimmed(), &ok);
    return ok ? v : QString(text.trimmed()).toDouble();
}

QValidator::State ScientificSpinBox::validate(QString& text, int&) const {
    const QString t = text.trimmed();
    if (t.isEmpty()) return QValidator::Intermediate;
    bool ok = false;
    double v = locale().toDouble(t, &ok);
    if (!ok) v = t.toDouble(&ok);
    if (!ok) {
        // A number being typed: "5e", "5e-", "0." are on their way to one.
        static const QRegularExpression partial(QStringLiteral("^[0-9]*[.,]?[0-9]*([eE][-+]?)?$"));
        return partial.match(t).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
    }
    return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
}

void ScientificSpinBox::stepBy(int steps) {
    const double v = value() > 0 ? value() : minimum();
    setValue(v * std::pow(10.0, double(steps) / m_stepsPerDecade));
}

}  // namespace ll::widgets
