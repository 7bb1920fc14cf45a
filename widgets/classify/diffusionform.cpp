#include "classify/diffusionform.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "classify/intlist.h"
#include "classify/studyfolders.h"
#include "common/notelabel.h"
#include "run/runfolder.h"

namespace ll::widgets {

DiffusionForm::DiffusionForm(QWidget* parent) : QWidget(parent) {
    m_run = new QLabel;
    m_run->setObjectName(QStringLiteral("classifyRun"));
    m_run->setWordWrap(true);
    m_refusal = noteLabel();
    m_refusal->setObjectName(QStringLiteral("classifyRefusal"));
    m_refusal->setTextFormat(Qt::PlainText);
    m_split = new QComboBox;
    m_split->setObjectName(QStringLiteral("classifySplit"));
    m_split->addItem(tr("test"), QStringLiteral("test"));
    m_split->addItem(tr("train"), QStringLiteral("train"));
    m_split->setToolTip(
        tr("Which split of the run's data to classify (IDX data and "
           "Fashion-MNIST have both)"));
    m_limit = new QSpinBox;
    m_limit->setObjectName(QStringLiteral("classifyLimit"));
    m_limit->setRange(0, 1'000'000);
    m_limit->setValue(200);
    m_limit->setSpecialValueText(tr("all"));
    m_limit->setToolTip(tr("Images to classify (a seeded subset); all of them at 0"));
    m_timesteps = new QSpinBox;
    m_timesteps->setObjectName(QStringLiteral("classifyTimesteps"));
    m_timesteps->setRange(1, 1000);
    m_timesteps->setValue(50);
    m_timesteps->setToolTip(
        tr("Evenly spaced t at which every class's denoising error is "
           "measured"));
    m_noiseDraws = new QSpinBox;
    m_noiseDraws->setObjectName(QStringLiteral("classifyNoiseDraws"));
    m_noiseDraws->setRange(1, 64);
    m_noiseDraws->setToolTip(tr("Noises drawn at each t, the same for every image and class"));
    m_pruning = new QCheckBox(tr("Adaptive pruning"));
    m_pruning->setObjectName(QStringLiteral("classifyPruning"));
    m_pruning->setChecked(true);
    m_stages = new QLineEdit(QStringLiteral("20"));
    m_stages->setObjectName(QStringLiteral("classifyStages"));
    m_stages->setToolTip(
        tr("After this many (t, noise) pairs, cumulative: only the best classes "
           "go on. Comma-separated, ascending, below timesteps x draws"));
    m_keep = new QLineEdit(QStringLiteral("3"));
    m_keep->setObjectName(QStringLiteral("classifyKeep"));
    m_keep->setToolTip(tr("How many classes each stage keeps; comma-separated, descending"));
    m_loss = new QComboBox;
    m_loss->setObjectName(QStringLiteral("classifyLoss"));
    m_loss->addItem(tr("l2 (squared)"), QStringLiteral("l2"));
    m_loss->addItem(tr("l1 (absolute)"), QStringLiteral("l1"));
    m_baseline = new QCheckBox(tr("The clean classifier beside it"));
    m_baseline->setObjectName(QStringLiteral("classifyBaseline"));
    m_baseline->setChecked(true);
    m_baseline->setToolTip(tr("The dataset's domain classifier on the same images"));
    auto* note = noteLabel();
    note->setText(
        tr("Each image goes to the class whose conditional denoising error is lowest "
           "(Li et al. 2023)."));

    // Wrapped text sits in a box layout, which asks a label its height for the panel's
    // width; the form holds the controls.
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_run);
    layout->addWidget(m_refusal);
    auto* form = new QFormLayout;
    layout->addLayout(form);
    form->addRow(tr("Split"), m_split);
    form->addRow(tr("Images"), m_limit);
    form->addRow(tr("Timesteps"), m_timesteps);
    form->addRow(tr("Noise draws"), m_noiseDraws);
    form->addRow(m_pruning);
    form->addRow(tr("Stages"), m_stages);
    form->addRow(tr("Keep"), m_keep);
    form->addRow(tr("Loss"), m_loss);
    form->addRow(m_baseline);
    layout->addWidget(note);

    const auto changed = [this] { Q_EMIT this->changed(); };
    connect(m_pruning, &QCheckBox::toggled, this, [this, changed](bool on) {
        m_stages->setEnabled(on);
        m_keep->setEnabled(on);
        changed();
    });
    for (auto* spin : {m_limit, m_timesteps, m_noiseDraws})
        connect(spin, &QSpinBox::valueChanged, this, changed);
    for (auto* edit : {m_stages, m_keep}) connect(edit, &QLineEdit::textChanged, this, changed);
    for (auto* combo : {m_split, m_loss})
        connect(combo, &QComboBox::currentIndexChanged, this, changed);
    setRun({}, {});
}

void DiffusionForm::setRun(const QString& runDir, const QString& description) {
    m_run->setText(runDir.isEmpty() ? tr("Select a ddpm or latent-ddpm run in the runs browser.")
                                    : description);
}

void DiffusionForm::setRefusal(const QString& refusal) {
    m_refusalText = refusal;
    m_refusal->setText(wrappable(refusal));
    m_refusal->setVisible(!refusal.isEmpty());
}

QString DiffusionForm::refusal() const {
    return m_refusalText;
}

ll::Result<ll::DiffusionClassifierOptions> DiffusionForm::options() const {
    ll::DiffusionClassifierOptions o;
    o.timesteps = m_timesteps->value();
    o.noiseDraws = m_noiseDraws->value();
    auto loss = ll::parseDenoisingLoss(m_loss->currentData().toString().toStdString());
    if (!loss) return tl::unexpected(loss.error());
    o.loss = *loss;
    if (m_pruning->isChecked()) {
        const auto stages = parseIntList(m_stages->text());
        const auto keep = parseIntList(m_keep->text());
        if (!stages) return ll::fail(tr("Stages: whole numbers, comma-separated").toStdString());
        if (!keep) return ll::fail(tr("Keep: whole numbers, comma-separated").toStdString());
        o.stages.assign(stages->begin(), stages->end());
        o.keep.assign(keep->begin(), keep->end());
    }
    if (auto ok = ll::checkDiffusionClassifierOptions(o); !ok) return tl::unexpected(ok.error());
    return o;
}

ll::Result<ll::DiffusionClassifyRequest> DiffusionForm::request(
    const QString& runDir, const std::filesystem::path& workspace) const {
    auto o = options();
    if (!o) return tl::unexpected(o.error());
    auto config = ll::readRunConfig(runDir.toStdString());
    if (!config) return tl::unexpected(config.error());
    ll::DiffusionClassifyRequest r;
    r.run = runDir.toStdString();
    r.data = config->dataset;
    r.data.split = m_split->currentData().toString().toStdString();
    r.data.limit = m_limit->value();
    r.options = *o;
    r.baseline = m_baseline->isChecked();
    r.workspace = workspace;
    return r;
}

void DiffusionForm::save(QSettings& s) const {
    s.setValue(QStringLiteral("classify/split"), m_split->currentData());
    s.setValue(QStringLiteral("classify/limit"), m_limit->value());
    s.setValue(QStringLiteral("classify/timesteps"), m_timesteps->value());
    s.setValue(QStringLiteral("classify/noiseDraws"), m_noiseDraws->value());
    s.setValue(QStringLiteral("classify/pruning"), m_pruning->isChecked());
    s.setValue(QStringLiteral("classify/stages"), m_stages->text());
    s.setValue(QStringLiteral("classify/keep"), m_keep->text());
    s.setValue(QStringLiteral("classify/loss"), m_loss->currentData());
    s.setValue(QStringLiteral("classify/baseline"), m_baseline->isChecked());
}

void DiffusionForm::restore(const QSettings& s) {
    const auto pick = [](QComboBox* c, const QVariant& v) {
        if (const int i = c->findData(v); i >= 0) c->setCurrentIndex(i);
    };
    pick(m_split, s.value(QStringLiteral("classify/split"), QStringLiteral("test")));
    m_limit->setValue(s.value(QStringLiteral("classify/limit"), 200).toInt());
    m_timesteps->setValue(s.value(QStringLiteral("classify/timesteps"), 50).toInt());
    m_noiseDraws->setValue(s.value(QStringLiteral("classify/noiseDraws"), 1).toInt());
    m_pruning->setChecked(s.value(QStringLiteral("classify/pruning"), true).toBool());
    m_stages->setText(s.value(QStringLiteral("classify/stages"), QStringLiteral("20")).toString());
    m_keep->setText(s.value(QStringLiteral("classify/keep"), QStringLiteral("3")).toString());
    pick(m_loss, s.value(QStringLiteral("classify/loss"), QStringLiteral("l2")));
    m_baseline->setChecked(s.value(QStringLiteral("classify/baseline"), true).toBool());
}

}  // namespace ll::widgets
