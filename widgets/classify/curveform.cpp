#include "classify/curveform.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "classify/intlist.h"
#include "common/notelabel.h"

namespace ll::widgets {

namespace {

QString methodText(const std::string& m) {
    if (m == "nb") return CurveForm::tr("Naive Bayes");
    if (m == "gda") return CurveForm::tr("GDA (shared)");
    if (m == "qda") return CurveForm::tr("QDA (per class)");
    if (m == "logistic") return CurveForm::tr("Logistic");
    if (m == "cnn") return CurveForm::tr("CNN");
    return QString::fromStdString(m);
}

}  // namespace

CurveForm::CurveForm(QWidget* parent) : QWidget(parent) {
    m_dataset = new QLabel;
    m_dataset->setObjectName(QStringLiteral("curveDataset"));
    m_dataset->setWordWrap(true);
    m_features = new QComboBox;
    m_features->setObjectName(QStringLiteral("curveFeatures"));
    for (auto f :
         {ll::CurveFeatures::Extractor, ll::CurveFeatures::Pixels, ll::CurveFeatures::Columns})
        m_features->addItem(QString::fromStdString(ll::curveFeaturesName(f)),
                            QString::fromStdString(ll::curveFeaturesName(f)));
    m_features->setToolTip(
        tr("What the classifiers see: the domain extractor's features, the "
           "raw pixels, or a table's standardised columns"));
    auto* methods = new QGridLayout;
    int i = 0;
    for (const std::string& m : ll::learningCurveMethods()) {
        auto* box = new QCheckBox(methodText(m));
        box->setObjectName(QStringLiteral("curveMethod_") + QString::fromStdString(m));
        box->setChecked(m != "cnn");
        methods->addWidget(box, i / 2, i % 2);
        m_methods[m] = box;
        ++i;
    }
    m_sizes = new QLineEdit;
    m_sizes->setObjectName(QStringLiteral("curveSizes"));
    m_sizes->setPlaceholderText(tr("10, 30, 100, … all"));
    m_sizes->setToolTip(
        tr("Training images per class, comma-separated; empty: 10, 30, 100, "
           "300, … and all the smallest class has"));
    m_seeds = new QSpinBox;
    m_seeds->setObjectName(QStringLiteral("curveSeeds"));
    m_seeds->setRange(1, 100);
    m_seeds->setValue(5);
    m_seeds->setToolTip(
        tr("Each seed draws its own class-balanced subset: the band is the "
           "spread over seeds"));
    m_heldOut = new QSpinBox;
    m_heldOut->setObjectName(QStringLiteral("curveHeldOut"));
    m_heldOut->setRange(0, 1'000'000);
    m_heldOut->setValue(2000);
    m_heldOut->setSpecialValueText(tr("all"));
    m_heldOut->setToolTip(tr("Held-out rows scored at most (a seeded subset)"));
    auto* note = noteLabel();
    note->setText(
        tr("Generative classifiers reach their (higher) error floor faster: the "
           "chart marks where each stops beating logistic regression."));

    // Wrapped text sits in a box layout, which asks a label its height for the panel's
    // width; the form holds the controls.
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_dataset);
    auto* form = new QFormLayout;
    layout->addLayout(form);
    form->addRow(tr("Features"), m_features);
    form->addRow(tr("Methods"), methods);
    form->addRow(tr("Sizes"), m_sizes);
    form->addRow(tr("Seeds"), m_seeds);
    form->addRow(tr("Held out"), m_heldOut);
    layout->addWidget(note);
    setDataset({}, false);
}

void CurveForm::setDataset(const QString& description, bool tabular) {
    m_dataset->setText(description.isEmpty() ? tr("No dataset loaded.") : description);
    // A table's features are its columns; images have pixels or the extractor's features.
    const QString want = tabular ? QStringLiteral("columns") : QStringLiteral("extractor");
    const QString now = m_features->currentData().toString();
    if (tabular != (now == QStringLiteral("columns")))
        m_features->setCurrentIndex(m_features->findData(want));
}

ll::Result<ll::LearningCurveRequest> CurveForm::request(const ll::DatasetSpec& data,
                                                        const std::filesystem::path& workspace,
                                                        const std::filesystem::path& out) const {
    ll::LearningCurveRequest r;
    r.data = data;
    auto features = ll::parseCurveFeatures(m_features->currentData().toString().toStdString());
    if (!features) return tl::unexpected(features.error());
    r.features = *features;
    r.methods.clear();
    for (const std::string& m : ll::learningCurveMethods())
        if (m_methods.at(m)->isChecked()) r.methods.push_back(m);
    if (r.methods.empty()) return ll::fail(tr("Choose a method at least").toStdString());
    const auto sizes = parseIntList(m_sizes->text());
    if (!sizes) return ll::fail(tr("Sizes: whole numbers, comma-separated").toStdString());
    r.sizes = *sizes;
    r.seeds = m_seeds->value();
    r.heldOutLimit = m_heldOut->value();
    r.workspace = workspace;
    r.out = out;
    if (auto ok = ll::checkLearningCurve(r); !ok) return tl::unexpected(ok.error());
    return r;
}

void CurveForm::chooseMethods(const std::vector<std::string>& methods) {
    for (auto& [name, box] : m_methods)
        box->setChecked(std::find(methods.begin(), methods.end(), name) != methods.end());
}

void CurveForm::save(QSettings& s) const {
    s.setValue(QStringLiteral("classify/curveFeatures"), m_features->currentData());
    QStringList methods;
    for (const auto& [name, box] : m_methods)
        if (box->isChecked()) methods << QString::fromStdString(name);
    s.setValue(QStringLiteral("classify/curveMethods"), methods);
    s.setValue(QStringLiteral("classify/curveSizes"), m_sizes->text());
    s.setValue(QStringLiteral("classify/curveSeeds"), m_seeds->value());
    s.setValue(QStringLiteral("classify/curveHeldOut"), m_heldOut->value());
}

void CurveForm::restore(const QSettings& s) {
    if (const int i = m_features->findData(s.value(QStringLiteral("classify/curveFeatures")));
        i >= 0)
        m_features->setCurrentIndex(i);
    if (s.contains(QStringLiteral("classify/curveMethods"))) {
        std::vector<std::string> methods;
        for (const QString& m : s.value(QStringLiteral("classify/curveMethods")).toStringList())
            methods.push_back(m.toStdString());
        chooseMethods(methods);
    }
    m_sizes->setText(s.value(QStringLiteral("classify/curveSizes")).toString());
    m_seeds->setValue(s.value(QStringLiteral("classify/curveSeeds"), 5).toInt());
    m_heldOut->setValue(s.value(QStringLiteral("classify/curveHeldOut"), 2000).toInt());
}

}  // namespace ll::widgets
