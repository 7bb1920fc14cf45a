#include "export/exportsettings.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "eval/evaluate.h"
#include "models/catalog.h"
#include "run/runfolder.h"

namespace ll::widgets {

namespace {

QDoubleSpinBox* numberBox(const char* name, double min, double max, double step, double value,
                          int decimals = 2) {
    auto* box = new QDoubleSpinBox;
    box->setObjectName(QLatin1String(name));
    box->setRange(min, max);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    box->setValue(value);
    box->setKeyboardTracking(false);
    return box;
}

QSpinBox* countBox(const char* name, int min, int max, int value) {
    auto* box = new QSpinBox;
    box->setObjectName(QLatin1String(name));
    box->setRange(min, max);
    box->setValue(value);
    box->setKeyboardTracking(false);
    return box;
}

const QString kFormatKey = QStringLiteral("export/format");

}  // namespace

ExportSettings::ExportSettings(std::filesystem::path workspace, QWidget* parent)
    : QWidget(parent), m_workspace(std::move(workspace)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(countsBox());
    layout->addWidget(samplingBox());
    layout->addWidget(filtersBox());
    layout->addWidget(outputBox());
    // Combos as narrow as the dock: their items may be long (run names, formats).
    for (QComboBox* c : {m_countMode, m_classifier, m_sampler, m_format}) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(8);
    }
    setRun({}, {}, {}, false);
}

QGroupBox* ExportSettings::countsBox() {
    auto* box = new QGroupBox(tr("Counts and classes"));
    m_countMode = new QComboBox;
    m_countMode->setObjectName(QStringLiteral("exportCountMode"));
    m_countMode->addItem(tr("The same number per class"), false);
    m_countMode->addItem(tr("A class mixture"), true);
    m_perClass = countBox("exportPerClass", 1, 1'000'000, 100);
    m_total = countBox("exportTotal", 1, 10'000'000, 1000);
    m_classes = new QTableWidget(0, 2);
    m_classes->setObjectName(QStringLiteral("exportClasses"));
    m_classes->setHorizontalHeaderLabels({tr("Class"), tr("Weight")});
    m_classes->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_classes->verticalHeader()->setVisible(false);
    m_classes->verticalHeader()->setDefaultSectionSize(m_classes->fontMetrics().height() + 8);
    m_classes->setSelectionMode(QAbstractItemView::NoSelection);
    m_classes->setMaximumHeight(180);
    m_classes->setToolTip(
        tr("Checked classes are exported; in a mixture, each in proportion "
           "to its weight"));
    auto* all = new QPushButton(tr("All"));
    auto* none = new QPushButton(tr("None"));
    auto* classButtons = new QHBoxLayout;
    classButtons->addStretch(1);
    classButtons->addWidget(all);
    classButtons->addWidget(none);
    m_countsForm = new QFormLayout(box);
    m_countsForm->addRow(m_countMode);
    m_countsForm->addRow(tr("Per class"), m_perClass);
    m_countsForm->addRow(tr("Total"), m_total);
    m_countsForm->addRow(m_classes);
    m_countsForm->addRow(classButtons);

    connect(m_countMode, &QComboBox::currentIndexChanged, this, [this] {
        showControls();
        Q_EMIT changed();
    });
    for (QSpinBox* s : {m_perClass, m_total})
        connect(s, &QSpinBox::valueChanged, this, &ExportSettings::changed);
    connect(m_classes, &QTableWidget::itemChanged, this, &ExportSettings::changed);
    const auto checkAll = [this](bool on) {
        QSignalBlocker block(m_classes);
        for (int row = 0; row < m_classes->rowCount(); ++row)
            m_classes->item(row, 0)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
        Q_EMIT changed();
    };
    connect(all, &QPushButton::clicked, this, [checkAll] { checkAll(true); });
    connect(none, &QPushButton::clicked, this, [checkAll] { checkAll(false); });
    return box;
}

QGroupBox* ExportSettings::samplingBox() {
    auto* box = new QGroupBox(tr("Sampling"));
    m_seed = countBox("exportSeed", 0, 2'000'000'000, 1);
    m_seed->setToolTip(
        tr("Draw b of the export uses seed + b: the same settings give the same "
           "dataset bit for bit"));
    m_guidance = numberBox("exportGuidance", 0, 20, 0.5, 0, 1);
    m_guidance->setToolTip(tr("Classifier-free guidance weight w"));
    m_guidanceFrom = numberBox("exportGuidanceFrom", 0, 1, 0.05, 0);
    m_guidanceTo = numberBox("exportGuidanceTo", 0, 1, 0.05, 1);
    auto* interval = new QWidget;
    auto* intervalRow = new QHBoxLayout(interval);
    intervalRow->setContentsMargins(0, 0, 0, 0);
    intervalRow->addWidget(m_guidanceFrom);
    intervalRow->addWidget(m_guidanceTo);
    interval->setToolTip(tr("Guide only while the noise level t/T lies in this interval"));
    m_classifier = new QComboBox;
    m_classifier->setObjectName(QStringLiteral("exportClassifier"));
    m_classifierScale = numberBox("exportClassifierScale", 0, 20, 0.5, 1, 1);
    m_steps = countBox("exportSteps", 0, 1000, 0);
    m_steps->setSpecialValueText(tr("model's default"));
    m_sampler = new QComboBox;
    m_sampler->setObjectName(QStringLiteral("exportSampler"));
    m_sampler->addItem(QStringLiteral("DDIM"), int(ll::Sampler::Ddim));
    m_sampler->addItem(QStringLiteral("DDPM"), int(ll::Sampler::Ddpm));
    m_truncation = numberBox("exportTruncation", 0, 3, 0.1, 0);
    m_truncation->setSpecialValueText(tr("off"));
    m_truncation->setToolTip(tr("Resample latents until every |z_i| <= T"));
    m_temperature = numberBox("exportTemperature", 0.05, 3, 0.05, 1);
    m_temperature->setToolTip(tr("Scale of the prior's standard deviation"));
    m_samplingForm = new QFormLayout(box);
    m_samplingForm->addRow(tr("Seed"), m_seed);
    m_samplingForm->addRow(tr("Guidance"), m_guidance);
    m_samplingForm->addRow(tr("Interval"), interval);
    m_samplingForm->addRow(tr("Classifier"), m_classifier);
    m_samplingForm->addRow(tr("Scale"), m_classifierScale);
    m_samplingForm->addRow(tr("Steps"), m_steps);
    m_samplingForm->addRow(tr("Sampler"), m_sampler);
    m_samplingForm->addRow(tr("Truncation"), m_truncation);
    m_samplingForm->addRow(tr("Temperature"), m_temperature);
    for (QDoubleSpinBox* b :
         {m_guidance, m_guidanceFrom, m_guidanceTo, m_classifierScale, m_truncation, m_temperature})
        connect(b, &QDoubleSpinBox::valueChanged, this, &ExportSettings::changed);
    for (QSpinBox* b : {m_seed, m_steps})
        connect(b, &QSpinBox::valueChanged, this, &ExportSettings::changed);
    for (QComboBox* c : {m_sampler, m_classifier})
        connect(c, &QComboBox::currentIndexChanged, this, &ExportSettings::changed);
    return box;
}

QGroupBox* ExportSettings::filtersBox() {
    auto* box = new QGroupBox(tr("Filters"));
    m_minConfidence = numberBox("exportMinConfidence", 0, 1, 0.05, 0);
    m_minConfidence->setSpecialValueText(tr("off"));
    m_minConfidence->setToolTip(
        tr("Keep a sample only when the domain classifier gives its "
           "class at least this probability"));
    m_dropCopies = new QCheckBox(tr("Drop near-copies of training images"));
    m_dropCopies->setObjectName(QStringLiteral("exportDropCopies"));
    m_copyDistance = numberBox("exportCopyDistance", 0, 1e6, 0.1, 0, 3);
    m_copyDistance->setSpecialValueText(tr("automatic"));
    m_copyDistance->setToolTip(
        tr("Feature distance to the nearest training image below which a "
           "sample is a near-copy; automatic: the 1st percentile of real "
           "held-out images' distances (of training images' distances to "
           "their nearest other where the data holds none out)"));
    m_cap = countBox("exportCap", 0, 10'000'000, 0);
    m_cap->setSpecialValueText(tr("none"));
    m_cap->setToolTip(tr("At most this many samples of a class"));
    auto* form = new QFormLayout(box);
    form->addRow(tr("Min. confidence"), m_minConfidence);
    form->addRow(m_dropCopies);
    form->addRow(tr("Copy distance"), m_copyDistance);
    form->addRow(tr("Cap per class"), m_cap);
    connect(m_minConfidence, &QDoubleSpinBox::valueChanged, this, &ExportSettings::changed);
    connect(m_copyDistance, &QDoubleSpinBox::valueChanged, this, &ExportSettings::changed);
    connect(m_cap, &QSpinBox::valueChanged, this, &ExportSettings::changed);
    connect(m_dropCopies, &QCheckBox::toggled, this, [this] {
        showControls();
        Q_EMIT changed();
    });
    return box;
}

QGroupBox* ExportSettings::outputBox() {
    auto* box = new QGroupBox(tr("Format and card"));
    m_format = new QComboBox;
    m_format->setObjectName(QStringLiteral("exportFormat"));
    m_gzip = new QCheckBox(tr("gzip the IDX files"));
    m_gzip->setObjectName(QStringLiteral("exportGzip"));
    m_card = new QCheckBox(tr("Dataset card"));
    m_card->setObjectName(QStringLiteral("exportCard"));
    m_card->setChecked(true);
    m_card->setToolTip(
        tr("card.md, card.json and croissant.json: how the data was made and its quality "
           "against real held-out data, every score beside its real-vs-real floor"));
    m_metricsBox = new QGroupBox(tr("The card's scores"));
    auto* grid = new QGridLayout(m_metricsBox);
    int i = 0;
    for (const auto& name : ll::evalMetricNames()) {
        auto* check = new QCheckBox(QString::fromStdString(name));  // as Inspect names them
        check->setObjectName(QStringLiteral("exportMetric_") + QString::fromStdString(name));
        check->setChecked(true);
        check->setToolTip(
            QString::fromStdString(ll::scoreHelp(name == "neighbours" ? "nn_distance" : name)));
        grid->addWidget(check, i / 3, i % 3);
        m_metrics[name] = check;
        ++i;
    }
    auto* form = new QFormLayout(box);
    form->addRow(tr("Format"), m_format);
    form->addRow(m_gzip);
    form->addRow(m_card);
    form->addRow(m_metricsBox);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportSettings::showControls);
    connect(m_card, &QCheckBox::toggled, this, &ExportSettings::showControls);
    return box;
}

void ExportSettings::setRun(const std::string& model, const std::string& dataset,
                            const std::vector<std::string>& classNames, bool tabular) {
    m_model = model;
    m_dataset = dataset;
    m_tabular = tabular;
    {
        QSignalBlocker block(m_classes);
        m_classes->setRowCount(int(classNames.size()));
        for (int k = 0; k < int(classNames.size()); ++k) {
            auto* name = new QTableWidgetItem(QString::fromStdString(classNames[std::size_t(k)]));
            name->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
            name->setCheckState(Qt::Checked);
            m_classes->setItem(k, 0, name);
            auto* weight = new QTableWidgetItem;
            weight->setData(Qt::EditRole, 1.0);
            m_classes->setItem(k, 1, weight);
        }
    }
    {
        // Images: PNG folder, IDX or NumPy; tables: CSV in the data's own units.
        QSignalBlocker block(m_format);
        const QString wanted =
            m_format->count() > 0 ? m_format->currentData().toString() : QString();
        m_format->clear();
        if (tabular) {
            m_format->addItem(tr("CSV"), QStringLiteral("csv"));
        } else {
            m_format->addItem(tr("PNG, a folder per class"), QStringLiteral("png"));
            m_format->addItem(tr("IDX (MNIST's format)"), QStringLiteral("idx"));
            m_format->addItem(tr("NumPy .npy pair"), QStringLiteral("npy"));
        }
        if (const int at = m_format->findData(wanted); at >= 0) m_format->setCurrentIndex(at);
    }
    fillClassifiers();
    showControls();
}

void ExportSettings::fillClassifiers() {
    QSignalBlocker block(m_classifier);
    m_classifier->clear();
    m_classifier->addItem(tr("none"), QString());
    if (m_model.empty() || !ll::modelInfo(m_model).classifierGuidance) return;
    for (const auto& r : ll::listRuns(m_workspace))
        if (ll::modelInfo(r.model).guidesDiffusion && r.dataset == m_dataset)
            m_classifier->addItem(QString::fromStdString(r.dir.filename().string()),
                                  QString::fromStdString(r.dir.string()));
}

void ExportSettings::showControls() {
    const ll::ModelInfo& model = ll::modelInfo(m_model);
    const bool mixture = m_countMode->currentData().toBool();
    m_countsForm->setRowVisible(m_perClass, !mixture);
    m_countsForm->setRowVisible(m_total, mixture);
    m_classes->setColumnHidden(1, !mixture);
    const bool guided = model.guidance;
    m_samplingForm->setRowVisible(m_guidance, guided);
    m_samplingForm->setRowVisible(m_guidanceFrom->parentWidget(),
                                  guided || model.classifierGuidance);
    m_samplingForm->setRowVisible(m_classifier, model.classifierGuidance);
    m_samplingForm->setRowVisible(m_classifierScale, model.classifierGuidance);
    const bool diffusion = model.family == ll::ModelFamily::Diffusion;
    m_samplingForm->setRowVisible(m_steps, diffusion);
    m_samplingForm->setRowVisible(m_sampler, diffusion);
    m_samplingForm->setRowVisible(m_truncation, model.knob == ll::SampleKnob::Truncation);
    m_samplingForm->setRowVisible(m_temperature, model.knob == ll::SampleKnob::Temperature);
    m_classifierScale->setEnabled(m_classifier->count() > 1);
    m_copyDistance->setEnabled(m_dropCopies->isChecked());
    m_gzip->setVisible(m_format->currentData().toString() == QStringLiteral("idx"));
    m_metricsBox->setVisible(m_card->isChecked());
}

void ExportSettings::chooseClasses(const std::vector<int>& classes) {
    QSignalBlocker block(m_classes);
    for (int row = 0; row < m_classes->rowCount(); ++row)
        m_classes->item(row, 0)->setCheckState(
            std::ranges::find(classes, row) != classes.end() ? Qt::Checked : Qt::Unchecked);
    Q_EMIT changed();
}

QString ExportSettings::problem() const {
    int checked = 0;
    double weight = 0;
    for (int row = 0; row < m_classes->rowCount(); ++row)
        if (m_classes->item(row, 0)->checkState() == Qt::Checked) {
            ++checked;
            weight += m_classes->item(row, 1)->data(Qt::EditRole).toDouble();
        }
    if (m_classes->rowCount() > 0 && checked == 0) return tr("Check at least one class.");
    if (m_countMode->currentData().toBool() && !(weight > 0))
        return tr("Give the checked classes weights above 0 for the mixture.");
    return {};
}

void ExportSettings::fill(ll::ExportRequest& r) const {
    std::vector<int> classes;
    std::vector<std::pair<int, double>> proportions;
    for (int row = 0; row < m_classes->rowCount(); ++row) {
        if (m_classes->item(row, 0)->checkState() != Qt::Checked) continue;
        classes.push_back(row);
        const double w = m_classes->item(row, 1)->data(Qt::EditRole).toDouble();
        if (w > 0) proportions.emplace_back(row, w);
    }
    r.classes.clear();
    r.proportions.clear();
    if (m_countMode->currentData().toBool()) {
        r.proportions = proportions;
        r.total = m_total->value();
    } else {
        r.perClass = m_perClass->value();
        // All checked: the default (every class), so the command line stays short.
        if (int(classes.size()) < m_classes->rowCount()) r.classes = classes;
    }
    const ll::ModelInfo& model = ll::modelInfo(m_model);
    ll::SampleRequest& s = r.steering;
    s = {};
    s.seed = static_cast<std::uint64_t>(m_seed->value());
    if (model.guidance) s.guidance = m_guidance->value();
    if (model.guidance || model.classifierGuidance) {
        s.guidanceFrom = std::min(m_guidanceFrom->value(), m_guidanceTo->value());
        s.guidanceTo = std::max(m_guidanceFrom->value(), m_guidanceTo->value());
    }
    if (model.family == ll::ModelFamily::Diffusion) {
        s.steps = m_steps->value();
        s.sampler = ll::Sampler(m_sampler->currentData().toInt());
    }
    if (model.knob == ll::SampleKnob::Truncation) s.truncation = m_truncation->value();
    if (model.knob == ll::SampleKnob::Temperature) s.temperature = m_temperature->value();
    r.guidingClassifier.clear();
    if (model.classifierGuidance && !m_classifier->currentData().toString().isEmpty()) {
        r.guidingClassifier = m_classifier->currentData().toString().toStdString();
        s.classifierScale = m_classifierScale->value();
    }
    r.minConfidence = m_minConfidence->value();
    r.dropCopies = m_dropCopies->isChecked();
    r.copyDistance =
        r.dropCopies && m_copyDistance->value() > 0 ? m_copyDistance->value() : std::nan("");
    r.capPerClass = m_cap->value();
    if (auto f = ll::parseExportFormat(m_format->currentData().toString().toStdString()))
        r.format = *f;
    r.gzip = r.format == ll::ExportFormat::Idx && m_gzip->isChecked();
    r.card = m_card->isChecked();
    r.metrics.clear();
    for (const auto& [name, check] : m_metrics)
        if (check->isChecked()) r.metrics.push_back(name);
    // Every metric checked: the default (all), in the catalogue's order.
    if (r.metrics.size() == m_metrics.size()) r.metrics.clear();
}

void ExportSettings::save(QSettings& s) const {
    s.setValue(QStringLiteral("export/mixture"), m_countMode->currentData().toBool());
    s.setValue(QStringLiteral("export/perClass"), m_perClass->value());
    s.setValue(QStringLiteral("export/total"), m_total->value());
    s.setValue(QStringLiteral("export/seed"), m_seed->value());
    s.setValue(QStringLiteral("export/guidance"), m_guidance->value());
    s.setValue(QStringLiteral("export/guidanceFrom"), m_guidanceFrom->value());
    s.setValue(QStringLiteral("export/guidanceTo"), m_guidanceTo->value());
    s.setValue(QStringLiteral("export/classifierScale"), m_classifierScale->value());
    s.setValue(QStringLiteral("export/steps"), m_steps->value());
    s.setValue(QStringLiteral("export/sampler"), m_sampler->currentIndex());
    s.setValue(QStringLiteral("export/truncation"), m_truncation->value());
    s.setValue(QStringLiteral("export/temperature"), m_temperature->value());
    s.setValue(QStringLiteral("export/minConfidence"), m_minConfidence->value());
    s.setValue(QStringLiteral("export/dropCopies"), m_dropCopies->isChecked());
    s.setValue(QStringLiteral("export/copyDistance"), m_copyDistance->value());
    s.setValue(QStringLiteral("export/cap"), m_cap->value());
    // Tabular runs have only CSV: the images' choice stays as it was.
    if (!m_tabular) s.setValue(kFormatKey, m_format->currentData().toString());
    s.setValue(QStringLiteral("export/gzip"), m_gzip->isChecked());
    s.setValue(QStringLiteral("export/card"), m_card->isChecked());
    QStringList off;
    for (const auto& [name, check] : m_metrics)
        if (!check->isChecked()) off << QString::fromStdString(name);
    s.setValue(QStringLiteral("export/metricsOff"), off);
}

void ExportSettings::restore(const QSettings& s) {
    const auto value = [&s](const char* key, const QVariant& fallback) {
        return s.value(QStringLiteral("export/") + QLatin1String(key), fallback);
    };
    m_countMode->setCurrentIndex(value("mixture", false).toBool() ? 1 : 0);
    m_perClass->setValue(value("perClass", 100).toInt());
    m_total->setValue(value("total", 1000).toInt());
    m_seed->setValue(value("seed", 1).toInt());
    m_guidance->setValue(value("guidance", 0).toDouble());
    m_guidanceFrom->setValue(value("guidanceFrom", 0).toDouble());
    m_guidanceTo->setValue(value("guidanceTo", 1).toDouble());
    m_classifierScale->setValue(value("classifierScale", 1).toDouble());
    m_steps->setValue(value("steps", 0).toInt());
    m_sampler->setCurrentIndex(std::clamp(value("sampler", 0).toInt(), 0, 1));
    m_truncation->setValue(value("truncation", 0).toDouble());
    m_temperature->setValue(value("temperature", 1).toDouble());
    m_minConfidence->setValue(value("minConfidence", 0).toDouble());
    m_dropCopies->setChecked(value("dropCopies", false).toBool());
    m_copyDistance->setValue(value("copyDistance", 0).toDouble());
    m_cap->setValue(value("cap", 0).toInt());
    if (const int at = m_format->findData(value("format", QStringLiteral("png")).toString());
        at >= 0)
        m_format->setCurrentIndex(at);
    m_gzip->setChecked(value("gzip", false).toBool());
    m_card->setChecked(value("card", true).toBool());
    const QStringList off = value("metricsOff", QStringList()).toStringList();
    for (const auto& [name, check] : m_metrics)
        check->setChecked(!off.contains(QString::fromStdString(name)));
    showControls();
}

}  // namespace ll::widgets
