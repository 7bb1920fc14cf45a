// Tests for the sample grid view: the shared layout maths, the QPainter renderer, interaction,
// and the Vulkan renderer compared pixel by pixel with the QPainter one (Xvfb + lavapipe).

#include <cmath>
#include <memory>
#include <vector>

#include <QApplication>
#include <QHelpEvent>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>
#include <QVulkanInstance>
#include <QVulkanWindow>
#include <QWheelEvent>

#include "common/samplegrid.h"
#include "gridview/gridlayout.h"
#include "gridview/gridview.h"
#include "gridview/rowlabelstrip.h"
#include "vulkaninstance.h"
#include "waits.h"

using ll::testing::waitMs;
using ll::widgets::GridLayout;
using ll::widgets::GridView;
using ll::widgets::makeGridLayout;
using ll::widgets::TileRect;

namespace {

constexpr int kRows = 3;
constexpr int kCols = 4;
constexpr int kTile = 8;
constexpr int kCheckerTile = 5;
const QSize kViewSize(400, 300);
const QColor kBackground(0x20, 0x21, 0x24);
const QColor kCheckerA(10, 90, 240);
const QColor kCheckerB(250, 30, 120);

// Every solid colour has red != blue so that a BGRA/RGBA mix-up cannot go unnoticed.
QColor tileColor(int index, int variant = 0) {
    return QColor(40 + 17 * index, 200 - 13 * index - 50 * variant, 150 + 9 * index % 100);
}

QColor checkerColor(int tx, int ty) {
    return (tx + ty) % 2 ? kCheckerB : kCheckerA;
}

QColor greyOf(const QColor& c) {
    return QColor(c.red(), c.red(), c.red());
}

// 3 x 4 tiles of 8 x 8: solid colours, except tile 5, a one-texel checker board. Grey: every
// colour's red channel as a grey level (the Vulkan renderer keeps such atlases as one channel).
ll::SampleGrid knownGrid(int variant = 0, bool grey = false) {
    ll::SampleGrid grid;
    grid.rows = kRows;
    grid.cols = kCols;
    grid.tileWidth = kTile;
    grid.tileHeight = kTile;
    grid.rgba.resize(std::size_t(grid.atlasWidth()) * grid.atlasHeight() * 4);
    for (int y = 0; y < grid.atlasHeight(); ++y) {
        for (int x = 0; x < grid.atlasWidth(); ++x) {
            const int index = (y / kTile) * kCols + x / kTile;
            QColor c = index == kCheckerTile ? checkerColor(x % kTile, y % kTile)
                                             : tileColor(index, variant);
            if (grey) c = greyOf(c);
            std::uint8_t* p = grid.rgba.data() + (std::size_t(y) * grid.atlasWidth() + x) * 4;
            p[0] = std::uint8_t(c.red());
            p[1] = std::uint8_t(c.green());
            p[2] = std::uint8_t(c.blue());
            p[3] = 255;
        }
    }
    grid.step = variant;
    return grid;
}

GridLayout viewLayout(const GridView& view, QSize size) {
    const ll::SampleGrid& g = view.grid();
    return makeGridLayout(size.width(), size.height(), g.rows, g.cols, g.tileWidth, g.tileHeight,
                          view.zoom(), float(view.pan().x()), float(view.pan().y()));
}

QPoint centre(const TileRect& r) {
    return QPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
}

QColor pixelAt(const QImage& image, QPoint p) {
    return QColor(image.pixel(p));
}

}  // namespace

class TestGridView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tileRects_data();
    void tileRects();
    void tileIndexAt_data();
    void tileIndexAt();
    void texelForPixel();
    void texelMapFollowsTileRects();
    void zoomAroundKeepsPointFixed();

    void painterDrawsTiles_data();
    void painterDrawsTiles();
    void painterRowLabelsTakeASideStrip();
    void longRowLabelsFitOrAreCutInTheMiddle();
    void malformedGridIsIgnored();
    void hoverAndClick();
    void dragPansWithoutClicking();
    void wheelZoomsAroundCursor();

    void vulkanMatchesPainter_data();
    void vulkanMatchesPainter();
    void vulkanTexelLookupIsExact();
    void vulkanKeepsOnlyNewestGrid();
    void vulkanWindowForwardsMouse();

private:
    static QVulkanInstance* vulkanInstance();
};

QVulkanInstance* TestGridView::vulkanInstance() {
    QVulkanInstance& instance = ll::testing::vulkanInstance();
    if (!instance.isValid()) {
        // For local debugging (needs vulkan-validationlayers); Qt prints the layer's messages.
        if (qEnvironmentVariableIsSet("LATENTLAB_VULKAN_VALIDATION"))
            instance.setLayers({"VK_LAYER_KHRONOS_validation"});
        instance.create();
    }
    return &instance;
}

// --- layout maths -------------------------------------------------------------------------

void TestGridView::tileRects_data() {
    QTest::addColumn<QSize>("view");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("tile");
    QTest::addColumn<float>("zoom");
    QTest::addColumn<QPointF>("pan");
    QTest::addColumn<int>("index");
    QTest::addColumn<QRect>("expected");  // left, top, right (exclusive), bottom as x2, y2

    // 3x4 of 8x8 in 400x300: content 42x32 atlas units, fit 9.375, origin (3.125, 0).
    QTest::newRow("fit first") << kViewSize << 3 << 4 << 8 << 1.0f << QPointF() << 0
                               << QRect(QPoint(22, 19), QPoint(97, 94));
    QTest::newRow("fit last") << kViewSize << 3 << 4 << 8 << 1.0f << QPointF() << 11
                              << QRect(QPoint(303, 206), QPoint(378, 281));
    // Zoom 2: scale 18.75, origin (-183.75, -170) with the pan.
    QTest::newRow("zoom2 pan") << kViewSize << 3 << 4 << 8 << 2.0f << QPointF(10, -20) << 6
                               << QRect(QPoint(229, 55), QPoint(379, 205));
    QTest::newRow("zoom2 clipped") << kViewSize << 3 << 4 << 8 << 2.0f << QPointF(10, -20) << 0
                                   << QRect(QPoint(-146, -133), QPoint(4, 17));
    // 2x2 of 10x10 in 200x100 at zoom 0.5: scale 1.923, origin (75, 25).
    QTest::newRow("zoom out") << QSize(200, 100) << 2 << 2 << 10 << 0.5f << QPointF() << 3
                              << QRect(QPoint(102, 52), QPoint(121, 71));
}

void TestGridView::tileRects() {
    QFETCH(QSize, view);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, tile);
    QFETCH(float, zoom);
    QFETCH(QPointF, pan);
    QFETCH(int, index);
    QFETCH(QRect, expected);
    const GridLayout layout = makeGridLayout(view.width(), view.height(), rows, cols, tile, tile,
                                             zoom, float(pan.x()), float(pan.y()));
    const TileRect r = layout.tileRect(index);
    QCOMPARE(QRect(QPoint(r.left, r.top), QPoint(r.right, r.bottom)), expected);
}

void TestGridView::tileIndexAt_data() {
    QTest::addColumn<float>("zoom");
    QTest::addColumn<QPointF>("pan");
    QTest::addColumn<QPoint>("pixel");
    QTest::addColumn<int>("expected");

    QTest::newRow("first tile corner") << 1.0f << QPointF() << QPoint(22, 19) << 0;
    QTest::newRow("left of first") << 1.0f << QPointF() << QPoint(21, 19) << -1;
    QTest::newRow("last pixel of first") << 1.0f << QPointF() << QPoint(96, 93) << 0;
    QTest::newRow("gap after first") << 1.0f << QPointF() << QPoint(97, 50) << -1;
    QTest::newRow("second tile") << 1.0f << QPointF() << QPoint(116, 19) << 1;
    QTest::newRow("middle") << 1.0f << QPointF() << QPoint(150, 150) << 5;
    QTest::newRow("outside") << 1.0f << QPointF() << QPoint(-5, 10) << -1;
    QTest::newRow("corner background") << 1.0f << QPointF() << QPoint(399, 299) << -1;
    QTest::newRow("zoom2 tile6 corner") << 2.0f << QPointF(10, -20) << QPoint(229, 55) << 6;
    QTest::newRow("zoom2 before tile6") << 2.0f << QPointF(10, -20) << QPoint(228, 55) << -1;
    QTest::newRow("zoom2 clipped tile0") << 2.0f << QPointF(10, -20) << QPoint(0, 0) << 0;
    QTest::newRow("zoom2 gap") << 2.0f << QPointF(10, -20) << QPoint(20, 0) << -1;
    QTest::newRow("zoom2 tile1") << 2.0f << QPointF(10, -20) << QPoint(50, 0) << 1;
}

void TestGridView::tileIndexAt() {
    QFETCH(float, zoom);
    QFETCH(QPointF, pan);
    QFETCH(QPoint, pixel);
    QFETCH(int, expected);
    const GridLayout layout =
        makeGridLayout(400, 300, kRows, kCols, kTile, kTile, zoom, float(pan.x()), float(pan.y()));
    QCOMPARE(layout.tileIndexAt(pixel.x(), pixel.y()), expected);
}

void TestGridView::texelForPixel() {
    using ll::widgets::texelForPixel;
    QCOMPARE(texelForPixel(0, 0, 16, 8), 0);
    QCOMPARE(texelForPixel(1, 0, 16, 8), 0);
    QCOMPARE(texelForPixel(2, 0, 16, 8), 1);
    QCOMPARE(texelForPixel(15, 0, 16, 8), 7);
    // 8 texels over 75 pixels starting at 22.
    QCOMPARE(texelForPixel(22, 22, 97, 8), 0);
    QCOMPARE(texelForPixel(30, 22, 97, 8), 0);
    QCOMPARE(texelForPixel(31, 22, 97, 8), 1);
    QCOMPARE(texelForPixel(96, 22, 97, 8), 7);
    // Shrunk tiles skip texels but never sample outside the tile.
    QCOMPARE(texelForPixel(0, 0, 4, 8), 1);
    QCOMPARE(texelForPixel(3, 0, 4, 8), 7);
    // A 4,096-texel tile over 600,000 pixels: the products pass 2^31.
    QCOMPARE(texelForPixel(599999, 0, 600000, 4096), 4095);
    QCOMPARE(texelForPixel(300000, 0, 600000, 4096), 2048);
}

// The texel map both renderers draw from names, for every pixel, the texel that the tile
// covering it (tileIndexAt) shows there (texelForPixel over its tileRect), and -1 on one axis
// at least wherever no tile is.
void TestGridView::texelMapFollowsTileRects() {
    struct Case {
        int width, height, rows, cols, tileW, tileH;
        float zoom, panX, panY;
    };
    const Case cases[] = {{400, 300, 3, 4, 8, 8, 1.0f, 0.0f, 0.0f},
                          {400, 300, 3, 4, 8, 8, 2.0f, 10.0f, -20.0f},
                          {401, 233, 5, 3, 12, 7, 0.61f, 13.7f, -8.2f},
                          {160, 100, 64, 64, 28, 28, 1.0f, 0.0f, 0.0f},
                          {300, 200, 2, 2, 10, 10, 9.0f, -350.0f, 40.0f},
                          {200, 100, 2, 2, 10, 10, 1.0f, 500.0f, 0.0f}};
    int tilePixels = 0;
    int backgroundPixels = 0;
    for (const Case& c : cases) {
        const GridLayout layout = makeGridLayout(c.width, c.height, c.rows, c.cols, c.tileW,
                                                 c.tileH, c.zoom, c.panX, c.panY);
        // One entry more on each axis than the canvas has: it stays -1.
        std::vector<std::int32_t> columns(std::size_t(c.width) + 1, 7);
        std::vector<std::int32_t> rows(std::size_t(c.height) + 1, 7);
        layout.fillTexelMap(columns, rows);
        QCOMPARE(columns.back(), -1);
        QCOMPARE(rows.back(), -1);
        for (int y = 0; y < c.height; ++y) {
            for (int x = 0; x < c.width; ++x) {
                const int index = layout.tileIndexAt(x, y);
                const std::int32_t mx = columns[std::size_t(x)];
                const std::int32_t my = rows[std::size_t(y)];
                if (index < 0) {
                    QVERIFY2(
                        mx < 0 || my < 0,
                        qPrintable(
                            QStringLiteral("(%1, %2) of case %3").arg(x).arg(y).arg(&c - cases)));
                    ++backgroundPixels;
                    continue;
                }
                const int row = index / c.cols;
                const int col = index % c.cols;
                const TileRect r = layout.tileRect(row, col);
                QCOMPARE(mx,
                         col * c.tileW + ll::widgets::texelForPixel(x, r.left, r.right, c.tileW));
                QCOMPARE(my,
                         row * c.tileH + ll::widgets::texelForPixel(y, r.top, r.bottom, c.tileH));
                ++tilePixels;
            }
        }
    }
    QVERIFY(tilePixels > 100000);
    QVERIFY(backgroundPixels > 10000);

    // An empty grid is all background.
    std::vector<std::int32_t> columns(10, 3);
    std::vector<std::int32_t> rows(10, 3);
    makeGridLayout(10, 10, 0, 4, 8, 8, 1.0f, 0.0f, 0.0f).fillTexelMap(columns, rows);
    QVERIFY(std::all_of(columns.begin(), columns.end(), [](int v) { return v == -1; }));
    QVERIFY(std::all_of(rows.begin(), rows.end(), [](int v) { return v == -1; }));
}

void TestGridView::zoomAroundKeepsPointFixed() {
    const GridLayout before = makeGridLayout(400, 300, kRows, kCols, kTile, kTile, 1.0f, 0, 0);
    float panX = 0;
    float panY = 0;
    before.panForZoomAround(1.0f, 2.5f, 150.0f, 150.0f, panX, panY);
    const GridLayout after = makeGridLayout(400, 300, kRows, kCols, kTile, kTile, 2.5f, panX, panY);
    QVERIFY(std::abs((150.0f - before.originX) / before.scale -
                     (150.0f - after.originX) / after.scale) < 1e-3f);
    QVERIFY(std::abs((150.0f - before.originY) / before.scale -
                     (150.0f - after.originY) / after.scale) < 1e-3f);
    QCOMPARE(after.tileIndexAt(150, 150), before.tileIndexAt(150, 150));
}

// --- QPainter renderer --------------------------------------------------------------------

void TestGridView::painterDrawsTiles_data() {
    QTest::addColumn<float>("zoom");
    QTest::addColumn<QPointF>("pan");
    QTest::newRow("fit") << 1.0f << QPointF();
    QTest::newRow("zoom2 pan") << 2.0f << QPointF(37.3, -21.6);
}

void TestGridView::painterDrawsTiles() {
    QFETCH(float, zoom);
    QFETCH(QPointF, pan);
    GridView view(nullptr);
    QCOMPARE(view.renderer(), GridView::Renderer::Painter);
    QCOMPARE(view.rendererName(), QStringLiteral("QPainter (no Vulkan instance)"));
    view.resize(kViewSize);
    view.setGrid(knownGrid());
    view.setZoom(zoom);
    view.setPan(pan);
    const QImage image = view.grabFrame();
    QCOMPARE(image.size(), kViewSize);

    const GridLayout layout = viewLayout(view, kViewSize);
    for (int index = 0; index < kRows * kCols; ++index) {
        const TileRect r = layout.tileRect(index);
        const QPoint c = centre(r);
        if (!image.rect().contains(c)) continue;
        if (index == kCheckerTile) {
            // Every texel of the checker board lands where texelForPixel says.
            for (int y = std::max(r.top, 0); y < std::min(r.bottom, image.height()); y += 3) {
                for (int x = std::max(r.left, 0); x < std::min(r.right, image.width()); x += 3) {
                    const int tx = ll::widgets::texelForPixel(x, r.left, r.right, kTile);
                    const int ty = ll::widgets::texelForPixel(y, r.top, r.bottom, kTile);
                    QCOMPARE(pixelAt(image, QPoint(x, y)), checkerColor(tx, ty));
                }
            }
        } else {
            QCOMPARE(pixelAt(image, c), tileColor(index));
            // The snapped corners belong to the tile too.
            const QPoint corners[2] = {QPoint(r.left, r.top), QPoint(r.right - 1, r.bottom - 1)};
            for (const QPoint& p : corners)
                if (image.rect().contains(p)) QCOMPARE(pixelAt(image, p), tileColor(index));
        }
    }
    // The gap right of tile 0 and its row, and the margin, show the background.
    const TileRect first = layout.tileRect(0);
    if (image.rect().contains(first.right, centre(first).y()))
        QCOMPARE(pixelAt(image, QPoint(first.right, centre(first).y())), kBackground);
    if (zoom == 1.0f) QCOMPARE(pixelAt(image, QPoint(5, 150)), kBackground);
}

void TestGridView::painterRowLabelsTakeASideStrip() {
    GridView view(nullptr);
    view.resize(kViewSize);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    ll::SampleGrid grid = knownGrid();
    grid.rowLabels = {"T-shirt", "Trouser", "Pullover"};
    view.setGrid(grid);
    const QImage withLabels = view.grabFrame();
    QVERIFY2(withLabels.width() < kViewSize.width() && withLabels.width() > 200,
             qPrintable(QString::number(withLabels.width())));
    view.setGrid(knownGrid());
    QCOMPARE(view.grabFrame().size(), kViewSize);
}

// "Ankle boot" shows whole, also after shorter names had sized the strip; a name beyond the
// strip's maximum width is cut in the middle and shows whole as the row's tooltip.
void TestGridView::longRowLabelsFitOrAreCutInTheMiddle() {
    GridView view(nullptr);
    view.resize(kViewSize);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    auto* strip = view.labelStrip();
    ll::SampleGrid grid = knownGrid();
    grid.rowLabels = {"a", "b", "c"};
    view.setGrid(grid);
    grid.rowLabels = {"T-shirt/top", "Ankle boot", "Bag"};
    view.setGrid(grid);
    QCOMPARE(strip->shownText(1), QStringLiteral("Ankle boot"));
    QCOMPARE(strip->shownText(0), QStringLiteral("T-shirt/top"));
    QVERIFY(strip->width() >= strip->preferredWidth());

    const QString longName =
        QStringLiteral("Sneaker with a name far longer than any strip should be wide, ending here");
    grid.rowLabels = {"Bag", longName.toStdString(), "Sandal"};
    view.setGrid(grid);
    QCOMPARE(strip->width(), ll::widgets::RowLabelStrip::kMaxWidth);
    const QString cut = strip->shownText(1);
    QVERIFY2(cut.contains(QChar(0x2026)) && cut.startsWith(QStringLiteral("Sneaker")) &&
                 cut.endsWith(QStringLiteral("here")),
             qPrintable(cut));
    QCOMPARE(strip->shownText(0), QStringLiteral("Bag"));

    int y = 0;
    while (y < strip->height() && strip->rowAt(y) != 1) ++y;
    QVERIFY(y < strip->height());
    const QPoint at(strip->width() / 2, y + 2);
    QHelpEvent help(QEvent::ToolTip, at, strip->mapToGlobal(at));
    QApplication::sendEvent(strip, &help);
    QTRY_COMPARE_WITH_TIMEOUT(QToolTip::text(), longName, waitMs(5000));
}

void TestGridView::malformedGridIsIgnored() {
    GridView view(nullptr);
    ll::SampleGrid grid = knownGrid();
    grid.rgba.resize(10);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("malformed grid")));
    view.setGrid(grid);
    QVERIFY(view.grid().empty());

    // A shared grid is shown as it is, not copied; a shared malformed one is refused too, and
    // null shows nothing.
    const auto shared = std::make_shared<const ll::SampleGrid>(knownGrid());
    view.setGrid(shared);
    QCOMPARE(&view.grid(), shared.get());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("malformed grid")));
    view.setGrid(std::make_shared<const ll::SampleGrid>(grid));
    QVERIFY(view.grid().empty());
    view.setGrid(shared);
    view.setGrid(std::shared_ptr<const ll::SampleGrid>());
    QVERIFY(view.grid().empty());

    // Tiles of no pixels (a texture of none), and an atlas whose size overflows an int.
    ll::SampleGrid flat = knownGrid();
    flat.tileWidth = 0;
    ll::SampleGrid huge = knownGrid();
    huge.cols = 1 << 20;
    huge.tileWidth = 1 << 12;
    for (const ll::SampleGrid* bad : {&flat, &huge}) {
        view.setGrid(shared);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("malformed grid")));
        view.setGrid(*bad);
        QVERIFY(view.grid().empty());
    }
}

void TestGridView::hoverAndClick() {
    GridView view(nullptr);
    view.resize(kViewSize);
    view.setGrid(knownGrid());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy hovered(&view, &GridView::tileHovered);
    QSignalSpy clicked(&view, &GridView::tileClicked);
    const GridLayout layout = viewLayout(view, kViewSize);

    QTest::mouseMove(&view, centre(layout.tileRect(6)));
    QTRY_VERIFY_WITH_TIMEOUT(!hovered.isEmpty(), waitMs(5000));
    QCOMPARE(hovered.last().at(0).toInt(), 6);
    QTest::mouseMove(&view, QPoint(5, 150));  // margin
    QTRY_COMPARE_WITH_TIMEOUT(hovered.last().at(0).toInt(), -1, waitMs(5000));

    QTest::mouseClick(&view, Qt::LeftButton, {}, centre(layout.tileRect(9)));
    QCOMPARE(clicked.size(), 1);
    QCOMPARE(clicked.last().at(0).toInt(), 9);
    QTest::mouseClick(&view, Qt::LeftButton, {}, QPoint(5, 150));
    QCOMPARE(clicked.size(), 1);  // background clicks are not tile clicks
}

void TestGridView::dragPansWithoutClicking() {
    GridView view(nullptr);
    view.resize(kViewSize);
    view.setGrid(knownGrid());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy clicked(&view, &GridView::tileClicked);
    const QPoint start = centre(viewLayout(view, kViewSize).tileRect(0));
    QTest::mousePress(&view, Qt::LeftButton, {}, start);
    QTest::mouseMove(&view, start + QPoint(20, 10));
    QTest::mouseMove(&view, start + QPoint(50, 30));
    QTest::mouseRelease(&view, Qt::LeftButton, {}, start + QPoint(50, 30));
    QCOMPARE(view.pan(), QPointF(50, 30));
    QCOMPARE(clicked.size(), 0);
    view.resetView();
    QCOMPARE(view.pan(), QPointF());
    QCOMPARE(view.zoom(), 1.0f);
}

void TestGridView::wheelZoomsAroundCursor() {
    GridView view(nullptr);
    view.resize(kViewSize);
    view.setGrid(knownGrid());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QPointF cursor(140.0, 130.0);
    const GridLayout before = viewLayout(view, kViewSize);
    QWheelEvent wheel(cursor, view.mapToGlobal(cursor), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(&view, &wheel);
    QVERIFY(std::abs(view.zoom() - 1.25f) < 1e-5f);
    const GridLayout after = viewLayout(view, kViewSize);
    QVERIFY(std::abs((140.0f - before.originX) / before.scale -
                     (140.0f - after.originX) / after.scale) < 1e-3f);
    QCOMPARE(after.tileIndexAt(140, 130), before.tileIndexAt(140, 130));
}

// --- Vulkan renderer ----------------------------------------------------------------------

void TestGridView::vulkanMatchesPainter_data() {
    QTest::addColumn<float>("zoom");
    QTest::addColumn<QPointF>("pan");
    QTest::addColumn<bool>("grey");
    QTest::newRow("fit") << 1.0f << QPointF() << false;
    QTest::newRow("zoom2 pan") << 2.0f << QPointF(37.3, -21.6) << false;
    QTest::newRow("zoom out") << 0.6f << QPointF(12.5, 8.25) << false;
    QTest::newRow("zoom7 checker") << 7.0f << QPointF(-40.0, 10.0) << false;
    QTest::newRow("grey fit") << 1.0f << QPointF() << true;
    QTest::newRow("grey zoom7 checker") << 7.0f << QPointF(-40.0, 10.0) << true;
}

void TestGridView::vulkanMatchesPainter() {
    QFETCH(float, zoom);
    QFETCH(QPointF, pan);
    QFETCH(bool, grey);
    QVERIFY2(vulkanInstance()->isValid(), "no Vulkan instance: install mesa-vulkan-drivers");

    GridView vulkan(vulkanInstance());
    QVERIFY2(vulkan.renderer() == GridView::Renderer::Vulkan, qPrintable(vulkan.rendererName()));
    QVERIFY(vulkan.rendererName().startsWith(QStringLiteral("Vulkan (")));
    QSignalSpy frames(&vulkan, &GridView::frameRendered);
    vulkan.resize(kViewSize);
    vulkan.setGrid(knownGrid(0, grey));
    vulkan.setZoom(zoom);
    vulkan.setPan(pan);
    vulkan.show();
    QVERIFY(QTest::qWaitForWindowExposed(&vulkan));
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), waitMs(5000));
    QCOMPARE(vulkan.renderer(), GridView::Renderer::Vulkan);  // no fallback happened

    GridView painter(nullptr);
    painter.resize(kViewSize);
    painter.setGrid(knownGrid(0, grey));
    painter.setZoom(zoom);
    painter.setPan(pan);
    painter.show();
    QVERIFY(QTest::qWaitForWindowExposed(&painter));

    const QImage a = vulkan.grabFrame();
    const QImage b = painter.grabFrame().convertToFormat(QImage::Format_RGB32);
    QCOMPARE(a.size(), kViewSize);
    QCOMPARE(b.size(), kViewSize);
    QCOMPARE(a.format(), QImage::Format_RGB32);

    // Channel order: a solid tile's centre must read back with red and blue in place.
    const GridLayout layout = viewLayout(vulkan, kViewSize);
    for (int index = 0; index < kRows * kCols; ++index) {
        const QPoint c = centre(layout.tileRect(index));
        if (index != kCheckerTile && a.rect().contains(c))
            QCOMPARE(pixelAt(a, c), grey ? greyOf(tileColor(index)) : tileColor(index));
    }

    double sum[3] = {0, 0, 0};
    int differing = 0;
    for (int y = 0; y < a.height(); ++y) {
        const auto* pa = reinterpret_cast<const QRgb*>(a.constScanLine(y));
        const auto* pb = reinterpret_cast<const QRgb*>(b.constScanLine(y));
        for (int x = 0; x < a.width(); ++x) {
            const int d[3] = {std::abs(qRed(pa[x]) - qRed(pb[x])),
                              std::abs(qGreen(pa[x]) - qGreen(pb[x])),
                              std::abs(qBlue(pa[x]) - qBlue(pb[x]))};
            for (int ch = 0; ch < 3; ++ch) sum[ch] += d[ch];
            if (std::max({d[0], d[1], d[2]}) > 16) ++differing;
        }
    }
    const double pixels = double(a.width()) * a.height();
    qInfo("%s: mean abs diff R %.3f G %.3f B %.3f, %d differing pixels of %.0f (%s)",
          QTest::currentDataTag(), sum[0] / pixels, sum[1] / pixels, sum[2] / pixels, differing,
          pixels, qPrintable(vulkan.rendererName()));
    for (double s : sum) QVERIFY(s / pixels < 2.0);
    QVERIFY(differing < pixels / 100);
}

// Every texel its own colour, tiles neither square nor a power of two, and zooms that give
// tile extents of every kind (smaller than the tile, equal, fractional and whole multiples,
// where the texel quotient is exactly an integer): the shader's lookup must choose the texel
// QPainter's does for every pixel, exactly.
void TestGridView::vulkanTexelLookupIsExact() {
    QVERIFY(vulkanInstance()->isValid());
    ll::SampleGrid grid;
    grid.rows = 3;
    grid.cols = 5;
    grid.tileWidth = 12;
    grid.tileHeight = 7;
    grid.rgba.resize(std::size_t(grid.atlasWidth()) * grid.atlasHeight() * 4);
    for (int y = 0; y < grid.atlasHeight(); ++y) {
        for (int x = 0; x < grid.atlasWidth(); ++x) {
            std::uint8_t* p = grid.rgba.data() + (std::size_t(y) * grid.atlasWidth() + x) * 4;
            p[0] = std::uint8_t(20 * (x % grid.tileWidth) + 5);
            p[1] = std::uint8_t(30 * (y % grid.tileHeight) + 15);
            p[2] = std::uint8_t(16 * ((y / grid.tileHeight) * grid.cols + x / grid.tileWidth));
            p[3] = 255;
        }
    }
    GridView vulkan(vulkanInstance());
    GridView painter(nullptr);
    for (GridView* view : {&vulkan, &painter}) {
        view->resize(kViewSize);
        view->setGrid(grid);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view));
    }
    QCOMPARE(vulkan.renderer(), GridView::Renderer::Vulkan);

    const float zooms[] = {0.25f, 0.5f, 0.61f, 1.0f, 1.3f, 2.0f, 2.45f, 3.0f, 4.0f, 5.5f, 9.0f};
    int compared = 0;
    for (const float zoom : zooms) {
        for (const QPointF pan : {QPointF(), QPointF(13.7, -8.2)}) {
            for (GridView* view : {&vulkan, &painter}) {
                view->setZoom(zoom);
                view->setPan(pan);
            }
            const QImage a = vulkan.grabFrame();
            const QImage b = painter.grabFrame().convertToFormat(QImage::Format_RGB32);
            QCOMPARE(a.size(), kViewSize);
            QCOMPARE(b.size(), kViewSize);
            int differing = 0;
            QPoint first(-1, -1);
            for (int y = 0; y < a.height(); ++y) {
                const auto* pa = reinterpret_cast<const QRgb*>(a.constScanLine(y));
                const auto* pb = reinterpret_cast<const QRgb*>(b.constScanLine(y));
                for (int x = 0; x < a.width(); ++x) {
                    if ((pa[x] & 0xffffff) == (pb[x] & 0xffffff)) continue;
                    if (differing++ == 0) first = QPoint(x, y);
                }
            }
            QVERIFY2(differing == 0,
                     qPrintable(QStringLiteral("zoom %1 pan (%2, %3): %4 pixels differ, the "
                                               "first at (%5, %6)")
                                    .arg(zoom)
                                    .arg(pan.x())
                                    .arg(pan.y())
                                    .arg(differing)
                                    .arg(first.x())
                                    .arg(first.y())));
            ++compared;
        }
    }
    QCOMPARE(compared, 2 * int(std::size(zooms)));
}

void TestGridView::vulkanKeepsOnlyNewestGrid() {
    QVERIFY(vulkanInstance()->isValid());
    GridView view(vulkanInstance());
    QCOMPARE(view.renderer(), GridView::Renderer::Vulkan);
    view.resize(kViewSize);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy frames(&view, &GridView::frameRendered);
    // Both arrive before the next frame: only the second may ever be shown.
    view.setGrid(knownGrid(0));
    view.setGrid(knownGrid(1));
    QCOMPARE(view.grid().step, 1);
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), waitMs(5000));
    const QImage image = view.grabFrame();
    const GridLayout layout = viewLayout(view, kViewSize);
    QCOMPARE(pixelAt(image, centre(layout.tileRect(0))), tileColor(0, 1));
    QCOMPARE(pixelAt(image, centre(layout.tileRect(11))), tileColor(11, 1));

    // A grid of another size recreates the texture.
    ll::SampleGrid small;
    small.rows = small.cols = 1;
    small.tileWidth = small.tileHeight = 2;
    small.rgba = {255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255};
    frames.clear();
    view.setGrid(small);
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), waitMs(5000));
    QCOMPARE(pixelAt(view.grabFrame(), QPoint(200, 150)), QColor(255, 0, 0));

    // Back to the first size, grey: a one-channel texture. A grey grid with one coloured texel
    // in its last row turns it to four channels (the texel shown in colour), which then show
    // grey and colour grids alike.
    ll::SampleGrid almostGrey = knownGrid(0, true);
    const std::size_t last = almostGrey.rgba.size() - 4;
    almostGrey.rgba[last + 2] = std::uint8_t(almostGrey.rgba[last + 2] ^ 0x80);
    const QColor lastGrey = greyOf(tileColor(kRows * kCols - 1));
    const QColor lastColour(almostGrey.rgba[last], almostGrey.rgba[last + 1],
                            almostGrey.rgba[last + 2]);
    QCOMPARE_NE(lastColour, lastGrey);
    struct Shown {
        ll::SampleGrid grid;
        QColor firstTile;
        QColor lastTexel;
    };
    const std::vector<Shown> sequence = {
        {knownGrid(0, true), greyOf(tileColor(0)), lastGrey},
        {almostGrey, greyOf(tileColor(0)), lastColour},
        {knownGrid(0, true), greyOf(tileColor(0)), lastGrey},
        {knownGrid(1), tileColor(0, 1), tileColor(kRows * kCols - 1, 1)}};
    const TileRect corner = layout.tileRect(kRows * kCols - 1);
    for (const Shown& next : sequence) {
        frames.clear();
        view.setGrid(next.grid);
        QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), waitMs(5000));
        const QImage shown = view.grabFrame();
        QCOMPARE(pixelAt(shown, centre(layout.tileRect(0))), next.firstTile);
        QCOMPARE(pixelAt(shown, QPoint(corner.right - 1, corner.bottom - 1)), next.lastTexel);
    }
}

void TestGridView::vulkanWindowForwardsMouse() {
    QVERIFY(vulkanInstance()->isValid());
    GridView view(vulkanInstance());
    QCOMPARE(view.renderer(), GridView::Renderer::Vulkan);
    view.resize(kViewSize);
    view.setGrid(knownGrid());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVulkanWindow* window = view.window()->windowHandle()->findChild<QVulkanWindow*>();
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    QSignalSpy hovered(&view, &GridView::tileHovered);
    QSignalSpy clicked(&view, &GridView::tileClicked);
    const GridLayout layout = viewLayout(view, kViewSize);
    QTest::mouseMove(window, centre(layout.tileRect(7)));
    QTRY_VERIFY_WITH_TIMEOUT(!hovered.isEmpty(), waitMs(5000));
    QCOMPARE(hovered.last().at(0).toInt(), 7);
    QTest::mouseClick(window, Qt::LeftButton, {}, centre(layout.tileRect(2)));
    QTRY_COMPARE_WITH_TIMEOUT(clicked.size(), 1, waitMs(5000));
    QCOMPARE(clicked.last().at(0).toInt(), 2);
}

QTEST_MAIN(TestGridView)
#include "test_gridview.moc"
