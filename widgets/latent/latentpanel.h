#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <QWidget>

#include "common/samplegrid.h"
#include "models/catalog.h"
#include "models/request.h"
#include "sample/latentmap.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace ll {
class RunSampler;
}

namespace ll::widgets {

class LatentSliders;
class LatentView;
class RunSamplerQueue;

/// The latent browser's panel (design.md, the Latent mode): builds a run's latent map for its
/// LatentView, decodes the point or place the user clicks, edits that latent with one slider
/// per dimension and one per principal direction (GANSpace, Haerkoenen et al. 2020), keeps
/// three picked latents A, B and C for an interpolation strip (lerp or slerp; saved as a PNG
/// strip and a video in <run>/latent/) and for the arithmetic A - B + C. Every computation
/// runs on the window's RunSamplerQueue (the run's model shared with the Steer mode); a newer
/// decode replaces a waiting one.
class LatentPanel : public QWidget {
    Q_OBJECT
public:
    LatentPanel(RunSamplerQueue* samplers, LatentView* view, QWidget* parent = nullptr);
    ~LatentPanel() override;

    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    bool isBusy() const;
    /// The latent decoded last (base plus the direction sliders), and its image.
    std::vector<float> currentLatent() const;
    const ll::SampleGrid& currentImage() const { return m_image; }
    int decodeCount() const { return m_decodes; }
    /// The end A (0), B (1) or C (2): its latent, empty when not picked.
    const std::vector<float>& end(int which) const { return m_ends[std::size_t(which)].latent; }
    QString lastExport() const { return m_lastExport; }

public Q_SLOTS:
    void buildMap();
    /// Makes a map point the current latent (its class too) and decodes it.
    void choosePoint(int index);
    /// Makes the latent at a place of the map (mean + x PC1 + y PC2) the current one.
    void choosePlace(float x, float y);
    /// Picks the current latent as A (0), B (1) or C (2).
    void pickEnd(int which);
    void interpolate();
    /// Interpolates A to B and writes the strip and the video into <run>/latent/.
    void exportInterpolation();
    /// The current latent becomes A - B + C (C's class).
    void arithmetic();
    /// A tile sent from the Steer mode: sample `index` of `request` becomes the current
    /// latent, decoded with the tile's class and steering.
    void showTile(const QString& runDir, const ll::SampleRequest& request, qint64 index, int label);

Q_SIGNALS:
    void message(const QString& text);

private:
    using Then = std::function<void(LatentPanel&)>;
    using Work = std::function<Then(ll::RunSampler&)>;
    struct End {
        std::vector<float> latent;
        int label = -1;
        QString what;
    };
    /// Queues `work`: a droppable one replaces a droppable one that waits; `reopen` opens
    /// the run afresh at its latest checkpoint first.
    void submit(Work work, bool droppable, bool reopen = false);
    void setLatent(std::vector<float> latent, int label, const QString& what);
    void decodeCurrent();
    void showMarks();
    void showStatus(const QString& text, bool error = false);
    ll::SampleRequest decodeRequest(int label) const;
    int currentLabel() const;
    QString className(int label) const;

    RunSamplerQueue* m_samplers;
    LatentView* m_view;
    QString m_runDir;
    std::string m_model;
    /// What the open run's model can do (the catalogue's facts, never its name).
    const ll::ModelInfo& info() const { return ll::modelInfo(m_model); }
    bool m_conditional = false;
    std::vector<std::string> m_classNames;
    int m_decodes = 0;

    ll::LatentMap m_map;
    ll::SampleRequest m_steering;  // a Steer tile's settings, else the defaults
    std::array<End, 3> m_ends;
    QString m_what;  // how the current latent came about
    ll::SampleGrid m_image;
    QString m_lastExport;

    QLabel* m_title;
    QSpinBox* m_count;
    QSpinBox* m_seed;
    QCheckBox* m_showReal;
    QCheckBox* m_showDrawn;
    QPushButton* m_build;
    QLabel* m_picture;
    QLabel* m_description;
    QComboBox* m_class;
    std::array<QPushButton*, 3> m_pick;
    LatentSliders* m_sliders;
    QLabel* m_endsLabel;
    QSpinBox* m_steps;
    QComboBox* m_path;
    QPushButton* m_interpolate;
    QPushButton* m_export;
    QPushButton* m_arithmetic;
    QLabel* m_status;
};

}  // namespace ll::widgets
