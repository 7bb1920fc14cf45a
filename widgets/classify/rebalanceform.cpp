#include "classify/rebalanceform.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/notelabel.h"

namespace ll::widgets {

namespace {

const char* const kVaeModels[] = {"vae", "cvae", "chaotic-vae"};

QString methodText(const std::string& m) {
    if (m == "none") return RebalanceForm::tr("None");
    if (m == "under") return RebalanceForm::tr("Under");
    if (m == "over") return RebalanceForm::tr("Over");
    if (m == "smote") return RebalanceForm::tr("SMOTE");
    if (m == "smote+under") return RebalanceForm::tr("SMOTE+under");
    if (m == "smote-latent") return RebalanceForm::tr("SMOTE (VAE)");
    return QString::fromStdString(m);
}

QString methodTip(const std::string& m) {
    if (m == "none") return RebalanceForm::tr("The baseline: the imbalanced training set as it is");
    if (m == "under")
        return RebalanceForm::tr("Random under-sampling of every class to the smallest");
    if (m == "over") return RebalanceForm::tr("Random copies of every class up to the largest");
    if (m == "smote")
        return RebalanceForm::tr(
            "SMOTE in input space: new rows on segments between a row and one of its k "
            "same-class neighbours");
    if (m == "smote+under")
        return RebalanceForm::tr(
            "The SMOTE paper's combination: SMOTE the small classes to half the largest, "
            "then under-sample the rest to that");
    if (m == "smote-latent")
        return RebalanceForm::tr(
            "SMOTE between the encodings of a VAE, decoded back to images (the selected VAE "
            "run, or one the lab trains)");
    return RebalanceForm::tr(
               "Samples of a conditional %1 fill every class up to the largest (the selected run, "
               "or one the lab trains on the imbalanced set)")
        .arg(QString::fromStdString(m));
}

bool isVae(const QString& model) {
    return std::any_of(std::begin(kVaeModels), std::end(kVaeModels),
                       [&](const char* m) { return model == QLatin1String(m); });
}

}  // namespace

RebalanceForm::RebalanceForm(QWidget* parent) : QWidget(parent) {
    m_dataset = new QLabel;
    m_dataset->setObjectName(QStringLiteral("rebalanceDataset"));
    m_dataset->setWordWrap(true);
    m_imbalance = new QComboBox;
    m_imbalance->setObjectName(QStringLiteral("rebalanceImbalance"));
    m_imbalance->addItem(tr("Long tail"), int(ll::ImbalanceMode::LongTail));
    m_imbalance->addItem(tr("Minority classes"), int(ll::ImbalanceMode::Minority));
    m_imbalance->addItem(tr("As it is"), int(ll::ImbalanceMode::AsIs));
    m_imbalance->setToolTip(
        tr("How the training part is made imbalanced (the held-out part never is)"));
    m_ratio = new QDoubleSpinBox;
    m_ratio->setObjectName(QStringLiteral("rebalanceRatio"));
    m_ratio->setRange(1, 100000);
    m_ratio->setDecimals(1);
    m_ratio->setValue(100);
    m_ratio->setToolTip(tr("Largest class over smallest: an exponential profile between them"));
    m_minority = new QLineEdit;
    m_minority->setObjectName(QStringLiteral("rebalanceMinority"));
    m_minority->setToolTip(
        tr("Minority classes by name or number, each with its share of the training rows: "
           "3:0.02, 5:0.02"));
    auto* methods = new QGridLayout;
    int i = 0;
    for (const std::string& m : ll::rebalanceMethods()) {
        auto* box = new QCheckBox(methodText(m));
        box->setObjectName(QStringLiteral("rebalanceMethod_") + QString::fromStdString(m));
        box->setToolTip(methodTip(m));
        box->setChecked(!ll::isGeneratorMethod(m) && m != "smote-latent");
        methods->addWidget(box, i / 2, i % 2);
        m_methods[m] = box;
        ++i;
    }
    m_useRun = new QCheckBox;
    m_useRun->setObjectName(QStringLiteral("rebalanceUseRun"));
    m_useRun->setChecked(true);
    m_classifier = new QComboBox;
    m_classifier->setObjectName(QStringLiteral("rebalanceClassifier"));
    m_classifier->addItem(tr("Automatic"), QString());
    m_classifier->addItem(tr("CNN (images)"), QStringLiteral("cnn"));
    m_classifier->addItem(tr("MLP (tables)"), QStringLiteral("mlp"));
    m_classifier->addItem(tr("Logistic (tables)"), QStringLiteral("logistic"));
    m_classifier->setToolTip(
        tr("The one classifier every method trains: the zoo's CNN for images, an MLP or "
           "logistic regression for tables (automatic: the CNN for images, logistic regression "
           "for tables)"));
    m_steps = new QSpinBox;
    m_steps->setObjectName(QStringLiteral("rebalanceSteps"));
    m_steps->setRange(1, 1'000'000);
    m_steps->setValue(400);
    m_steps->setToolTip(tr("CNN and MLP: training steps, the same for every method"));
    m_seeds = new QSpinBox;
    m_seeds->setObjectName(QStringLiteral("rebalanceSeeds"));
    m_seeds->setRange(1, 100);
    m_seeds->setValue(5);
    m_seeds->setToolTip(tr("Each seed draws the method's samples and the classifier's start"));
    m_heldOut = new QSpinBox;
    m_heldOut->setObjectName(QStringLiteral("rebalanceHeldOut"));
    m_heldOut->setRange(0, 1'000'000);
    m_heldOut->setValue(2000);
    m_heldOut->setSpecialValueText(tr("all"));
    m_heldOut->setToolTip(tr("Held-out rows scored at most (a seeded subset)"));
    m_smoteK = new QSpinBox;
    m_smoteK->setObjectName(QStringLiteral("rebalanceSmoteK"));
    m_smoteK->setRange(1, 100);
    m_smoteK->setValue(5);
    m_smoteK->setToolTip(tr("SMOTE: same-class nearest neighbours to blend with"));
    m_generatorSteps = new QSpinBox;
    m_generatorSteps->setObjectName(QStringLiteral("rebalanceGeneratorSteps"));
    m_generatorSteps->setRange(0, 10'000'000);
    m_generatorSteps->setSpecialValueText(tr("the preset's"));
    m_generatorSteps->setToolTip(tr("Steps of a generator (or VAE) the lab trains itself"));
    m_guidance = new QDoubleSpinBox;
    m_guidance->setObjectName(QStringLiteral("rebalanceGuidance"));
    m_guidance->setRange(0, 20);
    m_guidance->setSingleStep(0.5);
    m_guidance->setToolTip(tr("Diffusion generators: classifier-free guidance weight"));
    m_confidence = new QDoubleSpinBox;
    m_confidence->setObjectName(QStringLiteral("rebalanceConfidence"));
    m_confidence->setRange(0, 0.99);
    m_confidence->setSingleStep(0.05);
    m_confidence->setSpecialValueText(tr("keep all"));
    m_confidence->setToolTip(
        tr("Keep a generated sample only when the domain classifier gives its class at "
           "least this probability"));
    auto* note = noteLabel();
    note->setText(
        tr("Every method trains the same classifier on its rebalanced set and is scored on "
           "the untouched held-out part: does a generator help the minority more than "
           "SMOTE?"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_dataset);
    // The methods' grid spans the page (their names would not fit beside a label).
    auto* imbalance = new QFormLayout;
    layout->addLayout(imbalance);
    imbalance->addRow(tr("Imbalance"), m_imbalance);
    imbalance->addRow(tr("Ratio"), m_ratio);
    imbalance->addRow(tr("Minority"), m_minority);
    layout->addWidget(new QLabel(tr("Methods")));
    layout->addLayout(methods);
    layout->addWidget(m_useRun);
    auto* form = new QFormLayout;
    layout->addLayout(form);
    form->addRow(tr("Classifier"), m_classifier);
    form->addRow(tr("Steps"), m_steps);
    form->addRow(tr("Seeds"), m_seeds);
    form->addRow(tr("Held out"), m_heldOut);
    form->addRow(tr("SMOTE k"), m_smoteK);
    form->addRow(tr("Generator steps"), m_generatorSteps);
    form->addRow(tr("Guidance"), m_guidance);
    form->addRow(tr("Min. confidence"), m_confidence);
    layout->addWidget(note);

    connect(m_imbalance, &QComboBox::currentIndexChanged, this, [this] { updateEnabled(); });
    connect(m_classifier, &QComboBox::currentIndexChanged, this, [this] { updateEnabled(); });
    setDataset({}, false, {});
    setRun({}, {});
}

void RebalanceForm::updateEnabled() {
    const auto mode = ll::ImbalanceMode(m_imbalance->currentData().toInt());
    m_ratio->setEnabled(mode == ll::ImbalanceMode::LongTail);
    m_minority->setEnabled(mode == ll::ImbalanceMode::Minority);
    const QString classifier = m_classifier->currentData().toString();
    m_steps->setEnabled(classifier != QStringLiteral("logistic") &&
                        !(classifier.isEmpty() && m_tabular));
    // Images only: SMOTE in a VAE's latent space.
    m_methods.at("smote-latent")->setEnabled(!m_tabular);
}

void RebalanceForm::setDataset(const QString& description, bool tabular,
                               const QStringList& classes) {
    m_dataset->setText(description.isEmpty() ? tr("No dataset loaded.") : description);
    m_tabular = tabular;
    m_minority->setPlaceholderText(
        classes.isEmpty() ? tr("class:share, …") : QStringLiteral("%1:0.05").arg(classes.back()));
    if (!classes.isEmpty())
        m_minority->setToolTip(tr("Minority classes by name or number, each with its share of "
                                  "the training rows (for example %1:0.05). Classes: %2")
                                   .arg(classes.back(), classes.join(QStringLiteral(", "))));
    updateEnabled();
}

void RebalanceForm::setRun(const QString& runDir, const QString& model) {
    m_runDir = runDir;
    m_runModel = model;
    const bool generator = ll::isGeneratorMethod(model.toStdString());
    const bool usable = !runDir.isEmpty() && (generator || isVae(model));
    const QString name = QFileInfo(runDir).fileName();
    m_useRun->setText(usable ? tr("Use the selected %1 run").arg(model)
                             : tr("Use the selected run"));
    m_useRun->setToolTip(
        usable ? tr("%1 (%2) serves the %3 method instead of a run the lab "
                    "trains; it must be of the same data and classes")
                     .arg(name, model, generator ? model : QStringLiteral("smote-latent"))
               : tr("Select a conditional generator or VAE run in the runs "
                    "browser to use it here"));
    m_useRun->setEnabled(usable);
}

ll::Result<ll::RebalanceRequest> RebalanceForm::request(const ll::DatasetSpec& data,
                                                        const std::filesystem::path& workspace,
                                                        const std::filesystem::path& out) const {
    ll::RebalanceRequest r;
    r.data = data;
    // The lab makes its own imbalance (below) from the data the Data mode narrowed to; a long
    // tail chosen there would be a second one.
    r.data.longTailRatio = 1.0;
    r.imbalance = ll::ImbalanceMode(m_imbalance->currentData().toInt());
    r.longTailRatio = m_ratio->value();
    if (r.imbalance == ll::ImbalanceMode::Minority) {
        auto shares = ll::parseMinorityShares(m_minority->text().toStdString());
        if (!shares)
            return ll::fail(tr("Minority: %1")
                                .arg(QString::fromStdString(shares.error().message))
                                .toStdString());
        r.minority = *shares;
    }
    r.methods.clear();
    for (const std::string& m : ll::rebalanceMethods())
        if (m_methods.at(m)->isChecked() && m_methods.at(m)->isEnabled()) r.methods.push_back(m);
    if (r.methods.empty()) return ll::fail(tr("Choose a method at least").toStdString());
    const auto chosen = [&](const std::string& m) {
        return std::find(r.methods.begin(), r.methods.end(), m) != r.methods.end();
    };
    if (m_useRun->isEnabled() && m_useRun->isChecked()) {
        const std::string model = m_runModel.toStdString();
        if (ll::isGeneratorMethod(model) && chosen(model))
            r.generatorRuns.push_back(m_runDir.toStdString());
        if (isVae(m_runModel) && chosen("smote-latent")) r.vaeRun = m_runDir.toStdString();
    }
    r.classifier = m_classifier->currentData().toString().toStdString();
    r.classifierSteps = m_steps->value();
    r.seeds = m_seeds->value();
    r.heldOutLimit = m_heldOut->value();
    r.smoteK = m_smoteK->value();
    r.generatorSteps = m_generatorSteps->value();
    r.guidance = m_guidance->value();
    r.minConfidence = m_confidence->value();
    r.workspace = workspace;
    r.out = out;
    if (auto ok = ll::checkRebalance(r); !ok) return tl::unexpected(ok.error());
    return r;
}

void RebalanceForm::chooseMethods(const std::vector<std::string>& methods) {
    for (auto& [name, box] : m_methods)
        box->setChecked(std::find(methods.begin(), methods.end(), name) != methods.end());
}

void RebalanceForm::save(QSettings& s) const {
    s.setValue(QStringLiteral("classify/rebalanceImbalance"), m_imbalance->currentData());
    s.setValue(QStringLiteral("classify/rebalanceRatio"), m_ratio->value());
    s.setValue(QStringLiteral("classify/rebalanceMinority"), m_minority->text());
    QStringList methods;
    for (const auto& [name, box] : m_methods)
        if (box->isChecked()) methods << QString::fromStdString(name);
    s.setValue(QStringLiteral("classify/rebalanceMethods"), methods);
    s.setValue(QStringLiteral("classify/rebalanceUseRun"), m_useRun->isChecked());
    s.setValue(QStringLiteral("classify/rebalanceClassifier"), m_classifier->currentData());
    s.setValue(QStringLiteral("classify/rebalanceSteps"), m_steps->value());
    s.setValue(QStringLiteral("classify/rebalanceSeeds"), m_seeds->value());
    s.setValue(QStringLiteral("classify/rebalanceHeldOut"), m_heldOut->value());
    s.setValue(QStringLiteral("classify/rebalanceSmoteK"), m_smoteK->value());
    s.setValue(QStringLiteral("classify/rebalanceGeneratorSteps"), m_generatorSteps->value());
    s.setValue(QStringLiteral("classify/rebalanceGuidance"), m_guidance->value());
    s.setValue(QStringLiteral("classify/rebalanceConfidence"), m_confidence->value());
}

void RebalanceForm::restore(const QSettings& s) {
    const auto choose = [&s](QComboBox* box, const char* key) {
        const int i = box->findData(s.value(QLatin1String(key)));
        if (i >= 0) box->setCurrentIndex(i);
    };
    choose(m_imbalance, "classify/rebalanceImbalance");
    choose(m_classifier, "classify/rebalanceClassifier");
    m_ratio->setValue(s.value(QStringLiteral("classify/rebalanceRatio"), 100).toDouble());
    m_minority->setText(s.value(QStringLiteral("classify/rebalanceMinority")).toString());
    if (s.contains(QStringLiteral("classify/rebalanceMethods"))) {
        std::vector<std::string> methods;
        for (const QString& m : s.value(QStringLiteral("classify/rebalanceMethods")).toStringList())
            methods.push_back(m.toStdString());
        chooseMethods(methods);
    }
    m_useRun->setChecked(s.value(QStringLiteral("classify/rebalanceUseRun"), true).toBool());
    m_steps->setValue(s.value(QStringLiteral("classify/rebalanceSteps"), 400).toInt());
    m_seeds->setValue(s.value(QStringLiteral("classify/rebalanceSeeds"), 5).toInt());
    m_heldOut->setValue(s.value(QStringLiteral("classify/rebalanceHeldOut"), 2000).toInt());
    m_smoteK->setValue(s.value(QStringLiteral("classify/rebalanceSmoteK"), 5).toInt());
    m_generatorSteps->setValue(
        s.value(QStringLiteral("classify/rebalanceGeneratorSteps"), 0).toInt());
    m_guidance->setValue(s.value(QStringLiteral("classify/rebalanceGuidance"), 0).toDouble());
    m_confidence->setValue(s.value(QStringLiteral("classify/rebalanceConfidence"), 0).toDouble());
    updateEnabled();
}

}  // namespace ll::widgets
