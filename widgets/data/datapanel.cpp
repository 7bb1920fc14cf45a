#include "data/datapanel.h"

#include <algorithm>
#include <cmath>

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include "common/jobbridge.h"

namespace ll::widgets {

namespace {
enum Kind { FashionMnist = 0, CsvFile = 1, ImageFolder = 2, IdxFiles = 3 };

// What a class list belongs to: the same source and label column have the same classes.
std::string dataKey(const ll::DatasetSpec& s) {
    return s.source + '\n' + s.labelColumn;
}
}  // namespace

DataPanel::DataPanel(QWidget* parent)
    : QWidget(parent),
      m_loader(new JobBridge(this)),
      m_previewer(std::make_shared<ll::DatasetPreviewer>()) {
    m_kind = new QComboBox;
    m_kind->setObjectName(QStringLiteral("datasetKind"));
    m_kind->addItems(
        {tr("Fashion-MNIST (built in)"), tr("CSV file"), tr("Image folder"), tr("IDX files")});
    m_path = new QLineEdit;
    m_path->setObjectName(QStringLiteral("datasetPath"));
    m_path->setPlaceholderText(tr("File or folder"));
    m_browse = new QPushButton(tr("Browse..."));
    auto* pathRow = new QHBoxLayout;
    pathRow->setContentsMargins(0, 0, 0, 0);
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(m_browse);

    m_labelColumn = new QLineEdit;
    m_labelColumn->setPlaceholderText(tr("last column"));
    m_csvOptions = new QWidget;
    auto* csvForm = new QFormLayout(m_csvOptions);
    csvForm->setContentsMargins(0, 0, 0, 0);
    csvForm->addRow(tr("Label column"), m_labelColumn);

    // Image folders follow the data unless told otherwise: their own size (its long side at
    // most ll::kImageSizeLimit) and colour when the images have colour.
    m_imageSize = new QSpinBox;
    m_imageSize->setObjectName(QStringLiteral("imageSizeSpin"));
    m_imageSize->setRange(0, 256);
    m_imageSize->setSingleStep(4);
    m_imageSize->setSpecialValueText(tr("as the images"));
    m_imageSize->setSuffix(tr(" px"));
    m_imageSize->setValue(0);
    m_imageSize->setToolTip(tr("Tiles are resized to this square size; \"as the images\" takes "
                               "their most common size, at most %1 px")
                                .arg(ll::kImageSizeLimit));
    m_colour = new QComboBox;
    m_colour->setObjectName(QStringLiteral("imageColourCombo"));
    m_colour->addItem(tr("as the images"), int(ll::ImageColour::FollowData));
    m_colour->addItem(tr("grayscale"), int(ll::ImageColour::Gray));
    m_colour->addItem(tr("colour (RGB)"), int(ll::ImageColour::Rgb));
    m_folderOptions = new QWidget;
    auto* folderForm = new QFormLayout(m_folderOptions);
    folderForm->setContentsMargins(0, 0, 0, 0);
    folderForm->addRow(tr("Image size"), m_imageSize);
    folderForm->addRow(tr("Colour"), m_colour);

    m_limit = new QSpinBox;
    m_limit->setObjectName(QStringLiteral("datasetLimit"));
    m_limit->setRange(0, 10'000'000);
    m_limit->setSpecialValueText(tr("all"));
    m_limit->setSingleStep(1000);

    m_loadButton = new QPushButton(tr("Load"));
    m_loadButton->setObjectName(QStringLiteral("loadButton"));
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("dataStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A long note wraps in the dock's width instead of widening the dock.
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    // The subset trained on, as --classes and --long-tail: every class kept until unchecked.
    m_classes = new QListWidget;
    m_classes->setObjectName(QStringLiteral("datasetClasses"));
    m_classes->setToolTip(
        tr("Uncheck classes to leave them out of the data (and of the runs "
           "trained on it); they are numbered again in the order kept"));
    auto* allClasses = new QPushButton(tr("All"));
    allClasses->setObjectName(QStringLiteral("datasetAllClasses"));
    m_longTail = new QDoubleSpinBox;
    m_longTail->setObjectName(QStringLiteral("datasetLongTail"));
    m_longTail->setRange(1.0, 1000.0);
    m_longTail->setDecimals(1);
    m_longTail->setSpecialValueText(tr("off"));
    m_longTail->setToolTip(
        tr("Imbalance ratio: the largest class keeps all its rows, the "
           "smallest 1/ratio of them, the ones between geometrically fewer "
           "(a seeded subset)"));
    m_subsetOptions = new QWidget;
    auto* subsetForm = new QFormLayout(m_subsetOptions);
    subsetForm->setContentsMargins(0, 0, 0, 0);
    auto* classesColumn = new QVBoxLayout;
    classesColumn->setContentsMargins(0, 0, 0, 0);
    classesColumn->addWidget(m_classes);
    classesColumn->addWidget(allClasses, 0, Qt::AlignRight);
    subsetForm->addRow(tr("Classes"), classesColumn);
    subsetForm->addRow(tr("Long tail"), m_longTail);
    m_subsetOptions->setVisible(false);
    m_reload = new QTimer(this);
    m_reload->setSingleShot(true);
    m_reload->setInterval(400);

    auto* chart = new QChart;
    chart->legend()->hide();
    chart->setTitle(tr("Samples per class"));
    chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart = new QChartView(chart);
    m_chart->setRenderHint(QPainter::Antialiasing);
    m_chart->setMinimumHeight(240);

    auto* form = new QFormLayout;
    form->addRow(tr("Source"), m_kind);
    form->addRow(tr("Path"), pathRow);
    form->addRow(tr("Use at most"), m_limit);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_csvOptions);
    layout->addWidget(m_folderOptions);
    layout->addWidget(m_loadButton);
    layout->addWidget(m_status);
    layout->addWidget(m_subsetOptions);
    layout->addWidget(m_chart, 1);

    auto updateKind = [this] {
        const int kind = m_kind->currentIndex();
        m_path->setEnabled(kind != FashionMnist);
        m_browse->setEnabled(kind != FashionMnist);
        m_csvOptions->setVisible(kind == CsvFile);
        m_folderOptions->setVisible(kind == ImageFolder);
    };
    connect(m_kind, &QComboBox::currentIndexChanged, this, updateKind);
    connect(m_browse, &QPushButton::clicked, this, &DataPanel::browse);
    connect(m_loadButton, &QPushButton::clicked, this, &DataPanel::load);
    connect(m_path, &QLineEdit::returnPressed, this, &DataPanel::load);
    connect(m_classes, &QListWidget::itemChanged, this, [this] { m_reload->start(); });
    connect(m_longTail, &QDoubleSpinBox::valueChanged, this, [this] { m_reload->start(); });
    connect(allClasses, &QPushButton::clicked, this, [this] {
        for (int i = 0; i < m_classes->count(); ++i) m_classes->item(i)->setCheckState(Qt::Checked);
    });
    connect(m_reload, &QTimer::timeout, this, &DataPanel::subsetChanged);
    // Another source or label column has other classes: the list waits for its load.
    connect(m_kind, &QComboBox::currentIndexChanged, this, &DataPanel::updateSubsetVisibility);
    connect(m_path, &QLineEdit::textChanged, this, &DataPanel::updateSubsetVisibility);
    connect(m_labelColumn, &QLineEdit::textChanged, this, &DataPanel::updateSubsetVisibility);
    updateKind();
}

ll::DatasetSpec DataPanel::spec() const {
    ll::DatasetSpec s;
    s.source = m_kind->currentIndex() == FashionMnist
                   ? std::string("fashion-mnist")
                   : ll::absoluteSource(m_path->text().trimmed().toStdString());
    // Only what the chosen kind shows: a hidden field keeps no say in the run's config.
    if (m_kind->currentIndex() == CsvFile)
        s.labelColumn = m_labelColumn->text().trimmed().toStdString();
    if (m_kind->currentIndex() == ImageFolder) {
        s.imageSize = m_imageSize->value();
        s.colour = static_cast<ll::ImageColour>(m_colour->currentData().toInt());
    }
    s.limit = m_limit->value();
    if (!m_classesKey.empty() && m_classesKey == dataKey(s)) {
        std::vector<int> kept;
        for (int i = 0; i < m_classes->count(); ++i)
            if (m_classes->item(i)->checkState() == Qt::Checked) kept.push_back(i);
        if (static_cast<int>(kept.size()) < m_classes->count()) s.keepClasses = std::move(kept);
        s.longTailRatio = m_longTail->value();
    }
    return s;
}

void DataPanel::setSpec(const ll::DatasetSpec& s) {
    const QString source = QString::fromStdString(s.source);
    if (source.compare(QStringLiteral("fashion-mnist"), Qt::CaseInsensitive) == 0) {
        m_kind->setCurrentIndex(FashionMnist);
    } else {
        const ll::SourceKind kind = ll::sourceKind(s.source);
        m_kind->setCurrentIndex(
            kind == ll::SourceKind::Table                                          ? CsvFile
            : kind == ll::SourceKind::IdxFile || kind == ll::SourceKind::IdxFolder ? IdxFiles
                                                                                   : ImageFolder);
        m_path->setText(source);
    }
    m_labelColumn->setText(QString::fromStdString(s.labelColumn));
    m_imageSize->setValue(s.imageSize);  // 0: as the images
    m_colour->setCurrentIndex(std::max(0, m_colour->findData(int(s.colour))));
    m_limit->setValue(static_cast<int>(s.limit));
}

void DataPanel::browse() {
    QString chosen;
    switch (m_kind->currentIndex()) {
        case CsvFile:
            chosen = QFileDialog::getOpenFileName(
                this, tr("Open a CSV file"), m_path->text(),
                tr("Tables (*.csv *.tsv *.txt *.data *.dat);;All files (*)"));
            break;
        case IdxFiles:
            chosen =
                QFileDialog::getOpenFileName(this, tr("Open an IDX images file"), m_path->text(),
                                             tr("IDX files (*idx* *ubyte*);;All files (*)"));
            break;
        default:
            chosen = QFileDialog::getExistingDirectory(
                this, tr("Open an image folder (one sub-folder per class)"), m_path->text());
    }
    if (!chosen.isEmpty()) m_path->setText(chosen);
}

void DataPanel::load() {
    startLoad(/*reuse=*/false);
}

void DataPanel::startLoad(bool reuse) {
    if (m_loader->isRunning()) return;
    const ll::DatasetSpec s = spec();
    if (s.source.empty()) {
        m_status->setText(tr("Choose a file or folder first."));
        return;
    }
    m_loadingSpec = s;
    m_loadingKey = dataKey(s);
    m_loadingWhole = s.keepClasses.empty();
    m_loadButton->setEnabled(false);
    m_status->setText(tr("Loading %1...").arg(QString::fromStdString(s.source)));
    Q_EMIT busyChanged(true);
    using Loaded = ll::Result<ll::DatasetPreview>;
    runJob<Loaded>(
        *m_loader,
        [s, reuse, previewer = m_previewer](JobContext&) {
            // Load reads the source afresh; a change of classes or long tail keeps its data.
            return reuse ? previewer->reshape(s) : previewer->load(s);
        },
        [this](Loaded result) { loaded(result); },
        [this, source = s.source](const QString& why) {
            loaded(ll::fail(source + ": " + why.toStdString()));  // it threw: name the file
        });
}

void DataPanel::loaded(const ll::Result<ll::DatasetPreview>& result) {
    m_loadButton->setEnabled(true);
    Q_EMIT busyChanged(false);
    if (!result) {
        const QString message = QString::fromStdString(result.error().message);
        m_status->setText(
            QStringLiteral("<span style='color:#e06c60'>%1</span>").arg(message.toHtmlEscaped()));
        updateSubsetVisibility();
        Q_EMIT loadFailed(message);
        return;
    }
    m_loaded = true;
    m_loadedSpec = m_loadingSpec;
    m_summary = result->summary;
    if (m_loadingWhole) setClassList(result->summary, m_loadingKey);
    showSummary(result->summary);
    updateChart(result->summary);
    Q_EMIT previewReady(*result);
}

void DataPanel::setClassList(const ll::DatasetSummary& summary, const std::string& key) {
    QStringList names;
    for (const auto& name : summary.classNames) names << QString::fromStdString(name);
    QStringList listed;
    for (int i = 0; i < m_classes->count(); ++i) listed << m_classes->item(i)->text();
    m_subsetOptions->setVisible(true);
    if (key == m_classesKey && names == listed) return;  // the same data loaded again
    // Other data starts whole: every class, no long tail.
    QSignalBlocker blockTail(m_longTail);
    m_longTail->setValue(1.0);
    QSignalBlocker block(m_classes);
    m_classes->clear();
    for (const QString& name : names) {
        auto* item = new QListWidgetItem(name, m_classes);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
    }
    // As tall as its classes, up to eight rows; more scroll.
    const int shown = std::clamp(m_classes->count(), 1, 8);
    m_classes->setFixedHeight(shown * m_classes->sizeHintForRow(0) + 2 * m_classes->frameWidth() +
                              2);
    m_classesKey = key;
}

void DataPanel::updateSubsetVisibility() {
    m_subsetOptions->setVisible(!m_classesKey.empty() && m_classesKey == dataKey(spec()));
}

void DataPanel::subsetChanged() {
    // A load under way ends first; the change is taken after it.
    if (m_loader->isRunning()) return m_reload->start();
    bool any = false;
    for (int i = 0; i < m_classes->count() && !any; ++i)
        any = m_classes->item(i)->checkState() == Qt::Checked;
    if (!any && m_classes->count() > 0) {
        QSignalBlocker block(m_classes);
        m_classes->item(0)->setCheckState(Qt::Checked);
        m_subsetNote = tr("Keep at least one class: %1 is kept.")
                           .arg(m_classes->item(0)->text().toHtmlEscaped());
    }
    startLoad(/*reuse=*/true);
}

void DataPanel::showSummary(const ll::DatasetSummary& s) {
    QString shape =
        s.modality == ll::Modality::Image
            ? tr("%1 images of %2x%3x%4").arg(s.count).arg(s.channels).arg(s.height).arg(s.width)
            : tr("%1 rows of %2 features").arg(s.count).arg(s.features);
    // What loading did: the images' size and colour, a table's columns or rows left out.
    const QString note =
        s.note.empty() ? QString()
                       : QStringLiteral("<br>") + QString::fromStdString(s.note).toHtmlEscaped();
    // Data kept in splits trains on its train split; evaluation and studies hold out the other.
    const QString split =
        ll::hasSplits(spec().source)
            ? QStringLiteral("<br>") + tr("The other split is held out for evaluation")
            : QString();
    m_status->setText(
        tr("<b>%1</b><br>%2, %3 classes%4%5%6")
            .arg(QString::fromStdString(s.name).toHtmlEscaped(), shape)
            .arg(s.classNames.size())
            .arg(note, split,
                 m_subsetNote.isEmpty() ? QString() : QStringLiteral("<br>") + m_subsetNote));
    m_subsetNote.clear();
}

void DataPanel::updateChart(const ll::DatasetSummary& s) {
    auto* chart = m_chart->chart();
    chart->removeAllSeries();
    for (auto* axis : chart->axes()) {
        chart->removeAxis(axis);  // which gives it back to us
        delete axis;
    }
    auto* set = new QBarSet(tr("samples"));
    set->setColor(QColor(0x4c, 0x8b, 0xf5));
    QStringList categories;
    qint64 most = 0;
    // Horizontal bars fill from the bottom: add the classes last to first so the first is on top.
    for (std::size_t i = s.classCounts.size(); i-- > 0;) {
        *set << static_cast<double>(s.classCounts[i]);
        most = std::max<qint64>(most, s.classCounts[i]);
        categories << QString::fromStdString(s.classNames[i]);
    }
    // Class names read across, however long they are.
    auto* series = new QHorizontalBarSeries;
    series->append(set);
    chart->addSeries(series);
    auto* classes = new QBarCategoryAxis;
    classes->append(categories);
    auto* counts = new QValueAxis;
    // About three intervals of a round size (1, 2, 2.5 or 5 times a power of ten), so that
    // 6,000 images a class read 0, 2000, 4000, 6000.
    const double raw = std::max(1.0, static_cast<double>(most) / 3);
    const double decade = std::pow(10.0, std::floor(std::log10(raw)));
    double step = decade;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * decade >= raw) {
            step = m * decade;
            break;
        }
    const double intervals = std::max(1.0, std::ceil(static_cast<double>(most) / step));
    counts->setRange(0, intervals * step);
    counts->setTickCount(static_cast<int>(intervals) + 1);
    counts->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(classes, Qt::AlignLeft);
    chart->addAxis(counts, Qt::AlignBottom);
    series->attachAxis(classes);
    series->attachAxis(counts);
    m_chart->setMinimumHeight(std::max(240, 28 * static_cast<int>(categories.size()) + 80));
}

}  // namespace ll::widgets
