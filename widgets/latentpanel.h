#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <QWidget>

#include "common/samplegrid.h"
#include "models/request.h"
#include "sample/latentmap.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace ll {
class RunSampler;
}

namespace ll::widgets {

class LatentView;

/// The latent browser's panel (design.md, the Latent mode): builds a run's latent map for its
/// LatentView, decodes the point or place the user clicks, edits that latent with one slider
/// per dimension and one per principal direction (GANSpace, Haerkoenen et al. 2020), keeps
/// three picked latents A, B and C for an interpolation strip (lerp or slerp; saved as a PNG
/// strip and a video in <run>/latent/) and for the arithmetic A - B + C. Every computation
/// runs on a worker, one at a time; a newer decode replaces a waiting one.
class LatentPanel : public QWidget {
    Q_OBJECT
public:
    explicit LatentPanel(LatentView* view, QWidget* parent = nullptr);
    ~LatentPanel() override;

    void setRun(const QString& runDir);
    QString runDir() const { return m_runDir; }
    bool isBusy() const { return m_busy; }
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
    struct Job {
        Work work;
        bool droppable = false;  // a newer droppable job replaces it while it waits
    };
    struct End {
        std::vector<float> latent;
        int label = -1;
        QString what;
    };
    void submit(Work work, bool droppable);
    void runNext();
    void setLatent(std::vector<float> latent, int label, const QString& what);
    void decodeCurrent();
    void syncSliders();
    void showMarks();
    void showStatus(const QString& text, bool error = false);
    ll::SampleRequest decodeRequest(int label) const;
    int currentLabel() const;
    QString className(int label) const;

    LatentView* m_view;
    QString m_runDir;
    std::string m_model;
    bool m_conditional = false;
    std::vector<std::string> m_classNames;
    std::shared_ptr<ll::RunSampler> m_sampler;
    QString m_samplerRun;
    bool m_busy = false;
    std::deque<Job> m_queue;
    int m_decodes = 0;

    ll::LatentMap m_map;
    ll::SampleRequest m_steering;  // a Steer tile's settings, else the defaults
    std::vector<float> m_latent;   // the chosen latent, as the dimension sliders edit it
    std::vector<double> m_along;   // the direction sliders, in standard deviations
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
    QGroupBox* m_directionsBox;
    std::vector<QSlider*> m_directions;
    std::vector<QLabel*> m_directionValues;
    QGroupBox* m_dimensionsBox;
    QSpinBox* m_firstDim;
    std::vector<QSlider*> m_dims;
    std::vector<QLabel*> m_dimLabels;
    QLabel* m_endsLabel;
    QSpinBox* m_steps;
    QComboBox* m_path;
    QPushButton* m_interpolate;
    QPushButton* m_export;
    QPushButton* m_arithmetic;
    QLabel* m_status;
};

}  // namespace ll::widgets
