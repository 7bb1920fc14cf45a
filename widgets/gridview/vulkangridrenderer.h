#pragma once

#include <cstdint>
#include <vector>

#include <QString>
#include <QVulkanWindowRenderer>

namespace ll::widgets {

class VulkanGridWindow;

/// Draws VulkanGridWindow's grid: the atlas as one texture with nearest filtering (R8G8B8A8, or
/// R8 read back as grey where every tile is grey: a quarter of the bytes to upload and fetch),
/// uploaded lazily through a staging buffer recorded into the frame's own command buffer (as
/// in Qt's hellovulkantexture), and one rectangle over the tiles' bounding box whose fragments
/// look their texel (or the background, in the gaps) up in the layout's texel map
/// (GridLayout::fillTexelMap, written every frame into the frame's own slice of a host-visible
/// buffer). Failures after instance setup are reported through
/// VulkanGridWindow::renderingFailed and the renderer then only clears.
class GridRenderer final : public QVulkanWindowRenderer {
public:
    explicit GridRenderer(VulkanGridWindow* window);

    void initResources() override;
    void initSwapChainResources() override;
    void releaseSwapChainResources() override;
    void releaseResources() override;
    void startNextFrame() override;

private:
    struct HostBuffer {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkDeviceSize size = 0;
    };

    bool createRenderPass();
    bool createFramebuffers();
    void destroyFramebuffers();
    bool createPipeline();
    VkShaderModule loadShader(const QString& path);
    bool ensureTexture(int width, int height, bool grey);
    bool createHostBuffer(HostBuffer& out, VkDeviceSize size, VkBufferUsageFlags usage);
    void destroyHostBuffer(HostBuffer& buffer);
    bool ensureStaging(HostBuffer& staging, VkDeviceSize size);
    /// The texel map for the current swapchain; true without one when there is nothing to
    /// show (an empty swapchain), false only when the buffer cannot be had.
    bool createTexelMap();
    void destroyTexelMap();
    bool recordUpload(VkCommandBuffer cb);
    void recordDraw(VkCommandBuffer cb, std::size_t imageIndex);
    uint32_t memoryTypeIndex(uint32_t allowedBits, VkMemoryPropertyFlags wanted,
                             uint32_t preferred) const;
    void destroyTexture();
    void destroyStaging();
    void fail(const QString& reason);

    VulkanGridWindow* m_window;
    QVulkanDeviceFunctions* m_df = nullptr;
    VkDevice m_dev = VK_NULL_HANDLE;

    VkSampler m_sampler = VK_NULL_HANDLE;
    VkDescriptorSetLayout m_setLayout = VK_NULL_HANDLE;
    VkDescriptorPool m_descriptorPool = VK_NULL_HANDLE;
    VkDescriptorSet m_descriptorSet = VK_NULL_HANDLE;
    VkPipelineLayout m_pipelineLayout = VK_NULL_HANDLE;
    // Our own colour-only render pass and its framebuffers, one per swapchain image:
    // QVulkanWindow's default pass also clears a depth buffer the flat grid never reads, which
    // on a software device cost as much per frame as clearing the colour.
    VkRenderPass m_renderPass = VK_NULL_HANDLE;
    std::vector<VkFramebuffer> m_framebuffers;
    VkPipeline m_pipeline = VK_NULL_HANDLE;

    VkImage m_image = VK_NULL_HANDLE;
    VkDeviceMemory m_imageMemory = VK_NULL_HANDLE;
    VkImageView m_imageView = VK_NULL_HANDLE;
    int m_imageWidth = 0;
    int m_imageHeight = 0;
    bool m_imageGrey = false;
    // One staging buffer per swapchain image: QVulkanWindow waits for the previous command
    // buffer of the same image before startNextFrame(), so that buffer is free to overwrite.
    std::vector<HostBuffer> m_staging;
    // The texel map: one slice per swapchain image, for the same reason, of the canvas's
    // width plus height entries, bound with a dynamic offset; mapped while it exists. It is
    // made with each swapchain and released with it, so it always has the swapchain's size.
    HostBuffer m_texelMap;
    std::int32_t* m_texelMapData = nullptr;
    VkDeviceSize m_texelMapStride = 0;

    // Dimensions of the grid now in the texture (zero rows when nothing is shown).
    int m_rows = 0;
    int m_cols = 0;
    int m_tileWidth = 0;
    int m_tileHeight = 0;

    bool m_ready = false;
    bool m_linearOutput = false;  // sRGB swapchain: the shader outputs linear values
};

}  // namespace ll::widgets
