#include "inspect/inspectview.h"

#include <algorithm>
#include <cmath>

#include <QComboBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "inspect/inspectcharts.h"

namespace ll::widgets {

namespace {

constexpr int kTileScale = 3;  // 28-pixel tiles shown at 84 pixels

QString number(double v, int digits = 4) {
    return std::isnan(v) ? QStringLiteral("–") : QString::number(v, 'g', digits);
}

// Tile (row, col) of a PNG written by core's makeGrid with `cols` columns, scaled up with
// nearest-neighbour sampling so pixels stay sharp.
QPixmap tile(const QImage& image, int rows, int cols, int row, int col) {
    if (image.isNull() || rows < 1 || cols < 1) return {};
    const int w = image.width() / cols, h = image.height() / rows;
    const int side = std::min(128, w * kTileScale);
    return QPixmap::fromImage(image.copy(col * w, row * h, w, h).scaled(side, side * h / w));
}

// The shown size of a tile: kTileScale times its pixels, at most 128 (large images).
int tileSide(const QImage& image, int cols) {
    const int w = image.isNull() || cols < 1 ? 28 : image.width() / cols;
    return std::min(128, w * kTileScale);
}

QTableWidget* makeTable(const QStringList& headers) {
    auto* t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QString recordName(const ll::EvalRecord& r) {
    return QObject::tr("step %1 · guidance %2 · %3 samples · %4")
        .arg(r.step)
        .arg(r.guidance)
        .arg(r.count)
        .arg(r.featureSpace == "pixels" ? QObject::tr("raw pixels")
                                        : QObject::tr("classifier features"));
}

}  // namespace

// ---- The view ----

InspectView::InspectView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("inspectView"));
    m_empty = new QLabel;
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_record = new QComboBox;
    m_record->setObjectName(QStringLiteral("recordCombo"));
    m_protocol = new QLabel;
    m_protocol->setWordWrap(true);
    m_protocol->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_protocol->setStyleSheet(QStringLiteral("color: palette(shadow);"));

    m_scores =
        makeTable({tr("Metric"), tr("Value"), tr("Floor (real vs real)"), tr("How to read it")});
    m_scores->setObjectName(QStringLiteral("scoreTable"));
    m_scores->setWordWrap(true);
    m_scores->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_overSteps = new MetricsOverSteps;
    m_neighbours = makeTable({tr("Sample"), tr("Nearest"), tr("2nd"), tr("3rd"), tr("Distances")});
    m_neighbours->setObjectName(QStringLiteral("neighbourTable"));
    m_cellMap = new CellMap;
    m_cellInfo =
        new QLabel(tr("Click a cell to list its samples beside their nearest training "
                      "images."));
    m_cellInfo->setWordWrap(true);
    m_cellPairs = makeTable({tr("Sample"), tr("Nearest"), tr("Distance")});
    m_cellPairs->setObjectName(QStringLiteral("cellPairs"));
    auto* cellSide = new QWidget;
    auto* cellSideLayout = new QVBoxLayout(cellSide);
    cellSideLayout->setContentsMargins(0, 0, 0, 0);
    cellSideLayout->addWidget(m_cellInfo);
    cellSideLayout->addWidget(m_cellPairs, 1);
    auto* cells = new QSplitter;
    cells->addWidget(m_cellMap);
    cells->addWidget(cellSide);
    cells->setStretchFactor(0, 1);
    cells->setStretchFactor(1, 0);
    cellSide->setMinimumWidth(2 * (28 * kTileScale + 20) + 90);
    m_classes = new ClassChart;
    m_sweep = new SweepCharts;

    m_tabs = new QTabWidget;
    m_tabs->setObjectName(QStringLiteral("inspectTabs"));
    m_tabs->addTab(m_scores, tr("Scores"));
    m_tabs->addTab(m_overSteps, tr("Over steps"));
    m_tabs->addTab(m_neighbours, tr("Nearest neighbours"));
    m_tabs->addTab(cells, tr("Data copying"));
    m_tabs->addTab(m_classes, tr("Classes"));
    m_tabs->addTab(m_sweep, tr("Guidance sweep"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_empty);
    layout->addWidget(m_record);
    layout->addWidget(m_protocol);
    layout->addWidget(m_tabs, 1);

    connect(m_record, &QComboBox::currentIndexChanged, this, &InspectView::showRecord);
    connect(m_cellMap, &CellMap::cellClicked, this, &InspectView::showCell);
    setRun({});
}

int InspectView::overStepsPointCount() const {
    return m_overSteps->pointCount();
}

const ll::EvalRecord* InspectView::current() const {
    const int i = m_record->currentIndex();
    return i >= 0 && i < int(m_records.size()) ? &m_records[std::size_t(i)] : nullptr;
}

void InspectView::setRun(const QString& runDir, const QString& select) {
    m_runDir = runDir;
    std::vector<std::string> unreadable;
    m_records = runDir.isEmpty() ? std::vector<ll::EvalRecord>{}
                                 : ll::listEvaluations(runDir.toStdString(), &unreadable);
    const bool any = !m_records.empty();
    QString empty =
        any ? QString()
        : runDir.isEmpty()
            ? tr("No evaluation yet: choose a run, then Evaluate in the panel on the right. "
                 "Records are read from the run's eval folder.")
            : tr("%1 has no evaluation yet: press Evaluate in the panel on the right. Records "
                 "are read from the run's eval folder.")
                  .arg(QFileInfo(runDir).fileName());
    // A damaged or edited record is left out, and said so: not "no evaluation yet".
    if (!unreadable.empty())
        empty += (empty.isEmpty() ? QString() : QStringLiteral("\n\n")) +
                 tr("%n record(s) of the eval folder could not be read and are left out: %1", "",
                    int(unreadable.size()))
                     .arg(QString::fromStdString(unreadable.front()));
    m_empty->setVisible(!empty.isEmpty());
    m_empty->setText(empty);
    m_record->setVisible(any);
    m_protocol->setVisible(any);
    m_tabs->setVisible(any);
    QSignalBlocker block(m_record);
    m_record->clear();
    int chosen = -1;
    for (std::size_t i = 0; i < m_records.size(); ++i) {
        m_record->addItem(recordName(m_records[i]));
        if (!select.isEmpty() &&
            QFileInfo(QString::fromStdString(m_records[i].file.string())) == QFileInfo(select))
            chosen = int(i);
    }
    if (chosen < 0 && any) {
        // The newest step at guidance 0 (else the last record).
        chosen = int(m_records.size()) - 1;
        for (int i = chosen; i >= 0; --i)
            if (m_records[std::size_t(i)].guidance == 0 &&
                m_records[std::size_t(i)].step == m_records.back().step) {
                chosen = i;
                break;
            }
    }
    m_record->setCurrentIndex(chosen);
    m_overSteps->setRecords(runDir, &m_records);
    showRecord(chosen);
}

void InspectView::showRecord(int index) {
    const ll::EvalRecord* r =
        index >= 0 && index < int(m_records.size()) ? &m_records[std::size_t(index)] : nullptr;
    m_protocol->setText(r ? QString::fromStdString(r->protocol) : QString());

    m_scores->setRowCount(0);
    if (r)
        for (const auto& s : r->scores) {
            const int row = m_scores->rowCount();
            m_scores->insertRow(row);
            QString value = number(s.value);
            if (!std::isnan(s.std)) value += QStringLiteral(" ± ") + number(s.std, 2);
            m_scores->setItem(row, 0,
                              new QTableWidgetItem(QString::fromStdString(ll::scoreLabel(s.name))));
            m_scores->setItem(row, 1, new QTableWidgetItem(value));
            m_scores->setItem(row, 2, new QTableWidgetItem(number(s.floor)));
            auto* help = new QTableWidgetItem(QString::fromStdString(ll::scoreHelp(s.name)));
            help->setToolTip(help->text());
            m_scores->setItem(row, 3, help);
        }
    if (r)
        for (const auto& [name, why] : r->errors) {
            const int row = m_scores->rowCount();
            m_scores->insertRow(row);
            m_scores->setItem(row, 0,
                              new QTableWidgetItem(QString::fromStdString(ll::scoreLabel(name))));
            m_scores->setItem(row, 1, new QTableWidgetItem(tr("not computed")));
            m_scores->setItem(row, 2, new QTableWidgetItem);
            auto* reason = new QTableWidgetItem(QString::fromStdString(why));
            reason->setToolTip(reason->text());
            m_scores->setItem(row, 3, reason);
        }
    m_scores->resizeColumnsToContents();
    m_scores->horizontalHeader()->setStretchLastSection(true);

    m_neighbours->setRowCount(0);
    if (r && !r->neighbours.empty()) {
        const QImage image(QString::fromStdString(r->neighboursImage.string()));
        const int rows = int(r->neighbours.size());
        const int cols = 1 + int(r->neighbours.front().train.size());
        const int side = tileSide(image, cols);
        m_neighbours->setIconSize(QSize(side, side));
        for (int i = 0; i < rows; ++i) {
            const auto& n = r->neighbours[std::size_t(i)];
            m_neighbours->insertRow(i);
            for (int c = 0; c < cols && c < 4; ++c) {
                auto* item = new QTableWidgetItem;
                item->setData(Qt::DecorationRole, tile(image, rows, cols, i, c));
                item->setToolTip(
                    c == 0
                        ? tr("generated sample %1 (class %2)")
                              .arg(n.sample)
                              .arg(n.label >= 0 && n.label < int(r->classNames.size())
                                       ? QString::fromStdString(r->classNames[std::size_t(n.label)])
                                       : QString::number(n.label))
                        : tr("training image %1").arg(n.train[std::size_t(c - 1)]));
                m_neighbours->setItem(i, c, item);
            }
            QStringList d;
            for (double v : n.distances) d << QString::number(v, 'f', 3);
            m_neighbours->setItem(i, 4, new QTableWidgetItem(d.join(QStringLiteral("  "))));
            m_neighbours->setRowHeight(i, side + 6);
        }
        for (int c = 0; c < 4; ++c) m_neighbours->setColumnWidth(c, side + 40);
    }

    m_cellMap->setRecord(r);
    m_cellPairs->setRowCount(0);
    m_cellInfo->setText(
        tr("Click a cell to list its samples beside their nearest training images."));
    m_classes->setRecord(r);
    m_sweep->setRecords(m_records, r ? r->step : -1);
}

void InspectView::showCell(int cell) {
    const ll::EvalRecord* r = current();
    if (!r) return;
    const auto it = std::find_if(r->cells.begin(), r->cells.end(),
                                 [cell](const ll::EvalCell& c) { return c.id == cell; });
    if (it == r->cells.end()) return;
    const int row = int(it - r->cells.begin());
    m_cellInfo->setText(
        tr("Cell %1: Z = %2%3. %4 training, %5 held-out, %6 generated images. Its samples "
           "closest to a training image:")
            .arg(it->id)
            .arg(number(it->z, 3))
            .arg(it->kept ? QString() : tr(" (not counted: too few samples)"))
            .arg(it->train)
            .arg(it->test)
            .arg(it->generated));
    const QImage image(QString::fromStdString(r->cellsImage.string()));
    const int rows = int(r->cells.size());
    const int pairs = 4;
    m_cellPairs->setRowCount(0);
    const int side = tileSide(image, 2 * pairs);
    m_cellPairs->setIconSize(QSize(side, side));
    for (std::size_t i = 0; i < it->samples.size(); ++i) {
        const int at = m_cellPairs->rowCount();
        m_cellPairs->insertRow(at);
        for (int c = 0; c < 2; ++c) {
            auto* item = new QTableWidgetItem;
            item->setData(Qt::DecorationRole, tile(image, rows, 2 * pairs, row, 2 * int(i) + c));
            m_cellPairs->setItem(at, c, item);
        }
        m_cellPairs->setItem(at, 2,
                             new QTableWidgetItem(QString::number(it->distances[i], 'f', 3)));
        m_cellPairs->setRowHeight(at, side + 6);
    }
    for (int c = 0; c < 2; ++c) m_cellPairs->setColumnWidth(c, side + 20);
}

}  // namespace ll::widgets
