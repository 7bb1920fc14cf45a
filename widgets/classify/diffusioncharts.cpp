#include "classify/diffusioncharts.h"

#include <algorithm>
#include <cmath>

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QCoreApplication>
#include <QHorizontalStackedBarSeries>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QValueAxis>

namespace ll::widgets {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("ClassifyCharts", text);
}

QChart* newChart(const QString& title) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setTitle(title);
    return chart;
}

void attach(QChart* chart, QAbstractSeries* series, QAbstractAxis* x, QAbstractAxis* y) {
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
}

}  // namespace

QChart* titledChart(const QString& title) {
    return newChart(title);
}

QChart* budgetChart(const ll::DiffusionClassifyResult& r) {
    auto* chart = newChart(tr("Accuracy against network evaluations per image"));
    auto* x = new QLogValueAxis;
    x->setTitleText(tr("evaluations per image"));
    x->setLabelFormat(QStringLiteral("%g"));
    x->setBase(10);
    auto* y = new QValueAxis;
    y->setTitleText(tr("accuracy"));
    y->setRange(0, 1);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    auto* curve = new QLineSeries;
    curve->setName(tr("budget"));
    curve->setPointsVisible(true);
    auto* pruned = new QScatterSeries;
    pruned->setName(tr("pruned"));
    pruned->setMarkerSize(11);
    double lo = 1e300, hi = 1;
    for (const auto& p : r.budget) {
        if (p.evaluations <= 0) continue;
        (p.pruned ? static_cast<QXYSeries*>(pruned) : curve)->append(p.evaluations, p.accuracy);
        lo = std::min(lo, p.evaluations);
        hi = std::max(hi, p.evaluations);
    }
    // The run's own point, when the budget list does not carry it.
    if (pruned->count() == 0 && r.evaluationsPerImage > 0) {
        pruned->append(r.evaluationsPerImage, r.accuracy);
        lo = std::min(lo, r.evaluationsPerImage);
        hi = std::max(hi, r.evaluationsPerImage);
    }
    if (lo > hi) lo = 1;
    x->setRange(std::max(0.5, lo / 1.5), hi * 1.5);
    attach(chart, curve, x, y);
    attach(chart, pruned, x, y);
    if (r.baselineAccuracy) {
        auto* clean = new QLineSeries;
        clean->setName(tr("clean classifier"));
        clean->append(std::max(0.5, lo / 1.5), *r.baselineAccuracy);
        clean->append(hi * 1.5, *r.baselineAccuracy);
        attach(chart, clean, x, y);
        QPen dashed(QColor(0x60, 0x60, 0x60));
        dashed.setStyle(Qt::DashLine);
        dashed.setWidth(2);
        clean->setPen(dashed);
    }
    return chart;
}

QChart* errorBarsChart(const ll::DiffusionExplanation& e) {
    const QString chosen = e.predicted >= 0 && std::size_t(e.predicted) < e.classes.size()
                               ? QString::fromStdString(e.classes[std::size_t(e.predicted)])
                               : QString();
    // No title: the caption above says which class won and why; the room goes to the bars.
    auto* chart = newChart(QString());
    chart->setToolTip(tr("Mean denoising error per class (lowest wins: %1)").arg(chosen));
    auto* others = new QBarSet(tr("error"));
    auto* winner = new QBarSet(tr("chosen"));
    QStringList names;
    double lo = 1e300, hi = -1e300;
    // Bars grow upwards: the last class first, so that the first reads at the top.
    for (std::size_t k = e.errors.size(); k-- > 0;) {
        const double v = std::isfinite(e.errors[k]) ? e.errors[k] : 0.0;
        const bool isChosen = int(k) == e.predicted;
        *others << (isChosen ? 0.0 : v);
        *winner << (isChosen ? v : 0.0);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        QString name =
            k < e.classes.size() ? QString::fromStdString(e.classes[k]) : QString::number(k);
        if (int(k) == e.label) name += QStringLiteral(" (true)");
        names << name;
    }
    // One bar per class: the chosen one coloured apart (a stack of two sets, one of them 0).
    auto* series = new QHorizontalStackedBarSeries;
    series->append(others);
    series->append(winner);
    auto* y = new QBarCategoryAxis;
    y->append(names);
    QFont small = y->labelsFont();
    small.setPointSizeF(small.pointSizeF() * 0.75);
    y->setLabelsFont(small);
    auto* x = new QValueAxis;
    x->setTitleText(tr("mean error"));
    x->setTickCount(3);
    // The differences are what matters: the axis starts near the lowest error.
    const double span = std::max(hi - lo, 1e-9);
    x->setRange(std::max(0.0, lo - 0.5 * span), hi + 0.1 * span);
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    attach(chart, series, x, y);
    winner->setColor(QColor(0x2e, 0x8b, 0x57));  // after the theme has coloured the sets
    chart->legend()->setVisible(false);
    return chart;
}

QChart* errorCurvesChart(const ll::DiffusionExplanation& e) {
    auto* chart = newChart(QString());
    chart->setToolTip(tr("Denoising error against t, a line per class"));
    auto* x = new QValueAxis;
    x->setTitleText(tr("t"));
    x->setLabelFormat(QStringLiteral("%d"));
    // The error falls by orders of magnitude with t: a log axis keeps the classes apart
    // everywhere (when every error is positive).
    bool positive = true;
    for (const auto& curve : e.curves)
        for (double v : curve) positive = positive && (!std::isfinite(v) || v > 0);
    QAbstractAxis* y = nullptr;
    if (positive) {
        auto* log = new QLogValueAxis;
        log->setLabelFormat(QStringLiteral("%.3g"));
        y = log;
    } else {
        y = new QValueAxis;
    }
    y->setTitleText(tr("error"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double lo = 1e300, hi = -1e300;
    for (std::size_t k = 0; k < e.curves.size(); ++k) {
        auto* s = new QLineSeries;
        s->setName(k < e.classes.size() ? QString::fromStdString(e.classes[k])
                                        : QString::number(k));
        for (std::size_t i = 0; i < e.curves[k].size() && i < e.timesteps.size(); ++i) {
            const double v = e.curves[k][i];
            if (!std::isfinite(v)) continue;
            s->append(e.timesteps[i], v);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        attach(chart, s, x, y);
        if (int(k) == e.predicted) {  // after the theme has given it its colour
            QPen pen = s->pen();
            pen.setWidth(4);
            s->setPen(pen);
        }
    }
    if (!e.timesteps.empty()) x->setRange(e.timesteps.front(), std::max(e.timesteps.back(), 1));
    if (lo <= hi) y->setRange(positive ? lo / 1.2 : lo, positive ? hi * 1.2 : hi + 1e-9);
    chart->legend()->setAlignment(Qt::AlignRight);
    QFont small = chart->legend()->font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    chart->legend()->setFont(small);
    chart->legend()->setMarkerShape(QLegend::MarkerShapeCircle);
    return chart;
}

}  // namespace ll::widgets
