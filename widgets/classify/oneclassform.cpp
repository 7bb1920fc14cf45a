#include "classify/oneclassform.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/notelabel.h"

namespace ll::widgets {

namespace {

constexpr ll::OneClassModel kModels[] = {ll::OneClassModel::Vae, ll::OneClassModel::ChaoticVae,
                                         ll::OneClassModel::Mahalanobis};

QString name(ll::OneClassModel m) {
    return QString::fromStdString(ll::oneClassModelName(m));
}

}  // namespace

OneClassForm::OneClassForm(QWidget* parent) : QWidget(parent) {
    m_dataset = new QLabel;
    m_dataset->setObjectName(QStringLiteral("oneClassDataset"));
    m_dataset->setWordWrap(true);
    m_normal = new QComboBox;
    m_normal->setObjectName(QStringLiteral("oneClassNormal"));
    m_normal->setToolTip(
        tr("The class the detectors learn alone; every other class is an "
           "anomaly"));
    auto* models = new QGridLayout;
    int at = 0;
    for (auto m : kModels) {
        auto* box = new QCheckBox(name(m));
        box->setObjectName(QStringLiteral("oneClassModel_") + name(m));
        box->setChecked(true);
        models->addWidget(box, at / 2, at % 2);
        ++at;
        m_models[m] = box;
    }
    m_models[ll::OneClassModel::Mahalanobis]->setToolTip(
        tr("Mahalanobis distance on classifier features (a table's columns): the baseline"));
    m_seeds = new QSpinBox;
    m_seeds->setObjectName(QStringLiteral("oneClassSeeds"));
    m_seeds->setRange(1, 100);
    m_seeds->setValue(10);
    m_seeds->setToolTip(tr("Each seed trains both VAEs afresh; the paper's t-test takes 10"));
    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("oneClassSteps"));
    m_steps->setRange(1, 1'000'000);
    m_steps->setValue(1500);
    m_steps->setToolTip(tr("Training steps of each VAE at each seed"));
    m_percentile = new QDoubleSpinBox;
    m_percentile->setObjectName(QStringLiteral("oneClassPercentile"));
    m_percentile->setRange(50, 100);
    m_percentile->setDecimals(1);
    m_percentile->setValue(95);
    m_percentile->setSuffix(QStringLiteral(" %"));
    m_percentile->setToolTip(
        tr("The threshold: this percentile of the validation normals' "
           "scores; above it is anomalous"));
    m_score = new QComboBox;
    m_score->setObjectName(QStringLiteral("oneClassScore"));
    for (auto s :
         {ll::OneClassScore::Reconstruction, ll::OneClassScore::Elbo, ll::OneClassScore::Latent})
        m_score->addItem(QString::fromStdString(ll::oneClassScoreName(s)),
                         QString::fromStdString(ll::oneClassScoreName(s)));
    m_score->setToolTip(
        tr("The VAEs' headline score: the one their AUROC, rate and t-test "
           "report"));
    m_r = new QDoubleSpinBox;
    m_r->setObjectName(QStringLiteral("oneClassR"));
    m_r->setRange(3.5, 4.0);
    m_r->setDecimals(3);
    m_r->setSingleStep(0.01);
    m_r->setValue(4.0);
    m_r->setToolTip(tr("The logistic map's r: 4 is fully chaotic"));
    m_transform = new QComboBox;
    m_transform->setObjectName(QStringLiteral("oneClassTransform"));
    for (auto t : {ll::ChaoticTransform::Standardise, ll::ChaoticTransform::InverseNormal})
        m_transform->addItem(QString::fromStdString(ll::chaoticTransformName(t)),
                             QString::fromStdString(ll::chaoticTransformName(t)));
    auto* note = noteLabel();
    note->setText(
        tr("vae and chaotic-vae learn the normal class alone and score held-out rows "
           "by how badly they fit it; a two-sample t-test compares them over seeds."));

    // Wrapped text sits in a box layout, which asks a label its height for the panel's
    // width; the form holds the controls.
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_dataset);
    auto* form = new QFormLayout;
    layout->addLayout(form);
    form->addRow(tr("Normal class"), m_normal);
    form->addRow(tr("Models"), models);
    form->addRow(tr("Seeds"), m_seeds);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Percentile"), m_percentile);
    form->addRow(tr("Score"), m_score);
    form->addRow(tr("Chaotic r"), m_r);
    form->addRow(tr("Transform"), m_transform);
    layout->addWidget(note);
    setDataset({}, {});
}

void OneClassForm::setDataset(const QString& description, const std::vector<std::string>& classes) {
    m_dataset->setText(description.isEmpty() ? tr("No dataset loaded.") : description);
    const QString keep = m_normal->currentText();
    m_normal->clear();
    for (std::size_t i = 0; i < classes.size(); ++i)
        m_normal->addItem(QStringLiteral("%1 (%2)").arg(QString::fromStdString(classes[i])).arg(i),
                          QString::fromStdString(classes[i]));
    if (const int i = m_normal->findText(keep); i >= 0) m_normal->setCurrentIndex(i);
    m_normal->setEnabled(!classes.empty());
}

bool OneClassForm::chooseNormal(const QString& className) {
    const int i = m_normal->findData(className);
    if (i >= 0) m_normal->setCurrentIndex(i);
    return i >= 0;
}

void OneClassForm::chooseModels(const std::vector<ll::OneClassModel>& models) {
    for (auto& [m, box] : m_models)
        box->setChecked(std::find(models.begin(), models.end(), m) != models.end());
}

ll::Result<ll::OneClassRequest> OneClassForm::request(const ll::DatasetSpec& data,
                                                      const std::filesystem::path& workspace,
                                                      const std::filesystem::path& out) const {
    ll::OneClassRequest r;
    r.data = data;
    if (m_normal->currentIndex() < 0) return ll::fail(tr("Choose the normal class").toStdString());
    r.normal = m_normal->currentData().toString().toStdString();
    r.models.clear();
    for (auto m : kModels)
        if (m_models.at(m)->isChecked()) r.models.push_back(m);
    if (r.models.empty()) return ll::fail(tr("Choose a model at least").toStdString());
    r.seeds = m_seeds->value();
    r.steps = m_steps->value();
    r.percentile = m_percentile->value();
    auto score = ll::parseOneClassScore(m_score->currentData().toString().toStdString());
    if (!score) return tl::unexpected(score.error());
    r.headline = *score;
    r.r = m_r->value();
    auto transform = ll::parseChaoticTransform(m_transform->currentData().toString().toStdString());
    if (!transform) return tl::unexpected(transform.error());
    r.transform = *transform;
    r.workspace = workspace;
    r.out = out;
    return r;
}

void OneClassForm::save(QSettings& s) const {
    QStringList models;
    for (const auto& [m, box] : m_models)
        if (box->isChecked()) models << name(m);
    s.setValue(QStringLiteral("classify/oneClassModels"), models);
    s.setValue(QStringLiteral("classify/oneClassSeeds"), m_seeds->value());
    s.setValue(QStringLiteral("classify/oneClassSteps"), m_steps->value());
    s.setValue(QStringLiteral("classify/oneClassPercentile"), m_percentile->value());
    s.setValue(QStringLiteral("classify/oneClassScore"), m_score->currentData());
    s.setValue(QStringLiteral("classify/oneClassR"), m_r->value());
    s.setValue(QStringLiteral("classify/oneClassTransform"), m_transform->currentData());
}

void OneClassForm::restore(const QSettings& s) {
    if (s.contains(QStringLiteral("classify/oneClassModels"))) {
        const QStringList chosen =
            s.value(QStringLiteral("classify/oneClassModels")).toStringList();
        for (auto& [m, box] : m_models) box->setChecked(chosen.contains(name(m)));
    }
    m_seeds->setValue(s.value(QStringLiteral("classify/oneClassSeeds"), 10).toInt());
    m_steps->setValue(s.value(QStringLiteral("classify/oneClassSteps"), 1500).toInt());
    m_percentile->setValue(s.value(QStringLiteral("classify/oneClassPercentile"), 95).toDouble());
    if (const int i = m_score->findData(s.value(QStringLiteral("classify/oneClassScore"))); i >= 0)
        m_score->setCurrentIndex(i);
    m_r->setValue(s.value(QStringLiteral("classify/oneClassR"), 4.0).toDouble());
    if (const int i = m_transform->findData(s.value(QStringLiteral("classify/oneClassTransform")));
        i >= 0)
        m_transform->setCurrentIndex(i);
}

}  // namespace ll::widgets
