// The memory half of GridRenderer: atlas image, staging buffers, the texel map and the
// recorded upload.

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <QVulkanDeviceFunctions>

#include "gridview/vulkangridrenderer.h"
#include "gridview/vulkangridwindow.h"

namespace ll::widgets {

uint32_t GridRenderer::memoryTypeIndex(uint32_t allowedBits, VkMemoryPropertyFlags wanted,
                                       uint32_t preferred) const {
    // QVulkanWindow's suggested index is usually right; the requirements have the last word.
    if (allowedBits & (1u << preferred)) return preferred;
    VkPhysicalDeviceMemoryProperties props;
    m_window->vulkanInstance()->functions()->vkGetPhysicalDeviceMemoryProperties(
        m_window->physicalDevice(), &props);
    for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
        if ((allowedBits & (1u << i)) && (props.memoryTypes[i].propertyFlags & wanted) == wanted)
            return i;
    }
    return UINT32_MAX;
}

namespace {

/// Copies the red channel of width * height RGBA pixels to `out` while every pixel is grey
/// (r == g == b); false at the first row that is not, leaving `out` partly written.
bool copyGrey(const std::uint8_t* rgba, std::size_t width, std::size_t height, std::uint8_t* out) {
    for (std::size_t y = 0; y < height; ++y) {
        const std::uint8_t* p = rgba + y * width * 4;
        std::uint8_t* o = out + y * width;
        unsigned colour = 0;
        for (std::size_t x = 0; x < width; ++x) {
            o[x] = p[4 * x];
            colour |= unsigned(p[4 * x] ^ p[4 * x + 1]) | unsigned(p[4 * x] ^ p[4 * x + 2]);
        }
        if (colour) return false;
    }
    return true;
}

}  // namespace

bool GridRenderer::ensureTexture(int width, int height, bool grey) {
    if (m_image && width == m_imageWidth && height == m_imageHeight && grey == m_imageGrey)
        return true;
    // Earlier frames may still sample the old image and the descriptor set points at it;
    // size changes are rare (a new dataset or grid shape), so simply wait for the device.
    m_df->vkDeviceWaitIdle(m_dev);
    destroyTexture();

    const VkImageCreateInfo imageInfo{
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = grey ? VK_FORMAT_R8_UNORM : VK_FORMAT_R8G8B8A8_UNORM,
        .extent = {uint32_t(width), uint32_t(height), 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    if (m_df->vkCreateImage(m_dev, &imageInfo, nullptr, &m_image) != VK_SUCCESS) {
        m_image = VK_NULL_HANDLE;
        return false;
    }
    VkMemoryRequirements req;
    m_df->vkGetImageMemoryRequirements(m_dev, m_image, &req);
    const uint32_t type = memoryTypeIndex(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                          m_window->deviceLocalMemoryIndex());
    const VkMemoryAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    if (type == UINT32_MAX ||
        m_df->vkAllocateMemory(m_dev, &allocInfo, nullptr, &m_imageMemory) != VK_SUCCESS) {
        m_imageMemory = VK_NULL_HANDLE;
        destroyTexture();
        return false;
    }
    if (m_df->vkBindImageMemory(m_dev, m_image, m_imageMemory, 0) != VK_SUCCESS) {
        destroyTexture();
        return false;
    }
    const VkImageViewCreateInfo viewInfo{
        .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
        .image = m_image,
        .viewType = VK_IMAGE_VIEW_TYPE_2D,
        .format = grey ? VK_FORMAT_R8_UNORM : VK_FORMAT_R8G8B8A8_UNORM,
        // Grey: the one channel read as red, green and blue, so the shader stays the same.
        .components =
            grey ? VkComponentMapping{VK_COMPONENT_SWIZZLE_R, VK_COMPONENT_SWIZZLE_R,
                                      VK_COMPONENT_SWIZZLE_R, VK_COMPONENT_SWIZZLE_ONE}
                 : VkComponentMapping{VK_COMPONENT_SWIZZLE_IDENTITY, VK_COMPONENT_SWIZZLE_IDENTITY,
                                      VK_COMPONENT_SWIZZLE_IDENTITY, VK_COMPONENT_SWIZZLE_IDENTITY},
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    if (m_df->vkCreateImageView(m_dev, &viewInfo, nullptr, &m_imageView) != VK_SUCCESS) {
        m_imageView = VK_NULL_HANDLE;
        destroyTexture();
        return false;
    }
    m_imageWidth = width;
    m_imageHeight = height;
    m_imageGrey = grey;

    const VkDescriptorImageInfo descImage{m_sampler, m_imageView,
                                          VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
    const VkWriteDescriptorSet write{
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = m_descriptorSet,
        .dstBinding = 0,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
        .pImageInfo = &descImage,
    };
    m_df->vkUpdateDescriptorSets(m_dev, 1, &write, 0, nullptr);
    return true;
}

bool GridRenderer::createHostBuffer(HostBuffer& out, VkDeviceSize size, VkBufferUsageFlags usage) {
    destroyHostBuffer(out);
    const VkBufferCreateInfo bufferInfo{
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    if (m_df->vkCreateBuffer(m_dev, &bufferInfo, nullptr, &out.buffer) != VK_SUCCESS) {
        out = {};
        return false;
    }
    VkMemoryRequirements req;
    m_df->vkGetBufferMemoryRequirements(m_dev, out.buffer, &req);
    // hostVisibleMemoryIndex() is also host coherent, so no flush is needed after writing.
    const uint32_t type =
        memoryTypeIndex(req.memoryTypeBits,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        m_window->hostVisibleMemoryIndex());
    const VkMemoryAllocateInfo allocInfo{
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    if (type == UINT32_MAX ||
        m_df->vkAllocateMemory(m_dev, &allocInfo, nullptr, &out.memory) != VK_SUCCESS ||
        m_df->vkBindBufferMemory(m_dev, out.buffer, out.memory, 0) != VK_SUCCESS) {
        destroyHostBuffer(out);
        return false;
    }
    out.size = size;
    return true;
}

void GridRenderer::destroyHostBuffer(HostBuffer& buffer) {
    if (buffer.buffer) m_df->vkDestroyBuffer(m_dev, buffer.buffer, nullptr);
    if (buffer.memory) m_df->vkFreeMemory(m_dev, buffer.memory, nullptr);
    buffer = {};
}

bool GridRenderer::ensureStaging(HostBuffer& staging, VkDeviceSize size) {
    if (staging.buffer && staging.size >= size) return true;
    return createHostBuffer(staging, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
}

bool GridRenderer::createTexelMap() {
    destroyTexelMap();
    const QSize size = m_window->swapChainImageSize();
    const int images = m_window->swapChainImageCount();
    if (size.isEmpty() || images <= 0) return true;  // nothing to show: frames only clear
    VkPhysicalDeviceProperties props;
    m_window->vulkanInstance()->functions()->vkGetPhysicalDeviceProperties(
        m_window->physicalDevice(), &props);
    const VkDeviceSize align =
        std::max<VkDeviceSize>(props.limits.minStorageBufferOffsetAlignment, sizeof(std::int32_t));
    const VkDeviceSize bytes = VkDeviceSize(size.width() + size.height()) * sizeof(std::int32_t);
    m_texelMapStride = (bytes + align - 1) / align * align;
    if (!createHostBuffer(m_texelMap, m_texelMapStride * VkDeviceSize(images),
                          VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
        return false;
    void* mapped = nullptr;
    if (m_df->vkMapMemory(m_dev, m_texelMap.memory, 0, VK_WHOLE_SIZE, 0, &mapped) != VK_SUCCESS) {
        destroyHostBuffer(m_texelMap);
        return false;
    }
    m_texelMapData = static_cast<std::int32_t*>(mapped);

    // Binding 1 sees one slice; each frame picks its own with the dynamic offset.
    const VkDescriptorBufferInfo bufferInfo{m_texelMap.buffer, 0, bytes};
    const VkWriteDescriptorSet write{
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = m_descriptorSet,
        .dstBinding = 1,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC,
        .pBufferInfo = &bufferInfo,
    };
    m_df->vkUpdateDescriptorSets(m_dev, 1, &write, 0, nullptr);
    return true;
}

void GridRenderer::destroyTexelMap() {
    if (m_texelMapData) m_df->vkUnmapMemory(m_dev, m_texelMap.memory);
    destroyHostBuffer(m_texelMap);
    m_texelMapData = nullptr;
    m_texelMapStride = 0;
}

bool GridRenderer::recordUpload(VkCommandBuffer cb) {
    const ll::SampleGrid* grid = m_window->m_grid.get();
    m_rows = m_cols = 0;
    if (!grid || grid->empty()) return true;  // nothing to show: clear only

    const int width = grid->atlasWidth();
    const int height = grid->atlasHeight();
    const auto bytes = static_cast<VkDeviceSize>(width) * height * 4;
    const int imageIndex = m_window->currentSwapChainImageIndex();
    if (imageIndex < 0 || std::size_t(imageIndex) >= m_staging.size()) return false;
    HostBuffer& staging = m_staging[std::size_t(imageIndex)];
    if (!ensureStaging(staging, bytes)) return false;

    // Grey grids (Fashion-MNIST's, any one-channel data) go up as one byte per pixel; a colour
    // grid shows itself in its first rows and is then copied whole. A colour texture of the
    // same size shows grey grids too: changing format waits for the device, so grids that
    // alternate (Steer's boxes drawn on grey samples) switch once, not every time.
    const bool sameSize = m_image && width == m_imageWidth && height == m_imageHeight;
    void* mapped = nullptr;
    if (m_df->vkMapMemory(m_dev, staging.memory, 0, bytes, 0, &mapped) != VK_SUCCESS) return false;
    const bool grey = (!sameSize || m_imageGrey) &&
                      copyGrey(grid->rgba.data(), std::size_t(width), std::size_t(height),
                               static_cast<std::uint8_t*>(mapped));
    if (!grey) std::memcpy(mapped, grid->rgba.data(), static_cast<std::size_t>(bytes));
    m_df->vkUnmapMemory(m_dev, staging.memory);
    if (!ensureTexture(width, height, grey)) return false;

    // UNDEFINED discards the old contents, which the copy overwrites entirely anyway; the
    // fragment-shader source stage orders the write after earlier frames' reads.
    VkImageMemoryBarrier barrier{
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = 0,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = m_image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    m_df->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                               VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0, nullptr, 1,
                               &barrier);
    const VkBufferImageCopy region{
        .bufferOffset = 0,
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageExtent = {uint32_t(width), uint32_t(height), 1},
    };
    m_df->vkCmdCopyBufferToImage(cb, staging.buffer, m_image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                 1, &region);
    barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    barrier.newLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
    m_df->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, 0, 0, nullptr, 0, nullptr, 1,
                               &barrier);

    m_rows = grid->rows;
    m_cols = grid->cols;
    m_tileWidth = grid->tileWidth;
    m_tileHeight = grid->tileHeight;
    return true;
}

void GridRenderer::destroyTexture() {
    if (m_imageView) m_df->vkDestroyImageView(m_dev, m_imageView, nullptr);
    if (m_image) m_df->vkDestroyImage(m_dev, m_image, nullptr);
    if (m_imageMemory) m_df->vkFreeMemory(m_dev, m_imageMemory, nullptr);
    m_imageView = VK_NULL_HANDLE;
    m_image = VK_NULL_HANDLE;
    m_imageMemory = VK_NULL_HANDLE;
    m_imageWidth = m_imageHeight = 0;
    m_imageGrey = false;
}

void GridRenderer::destroyStaging() {
    for (HostBuffer& staging : m_staging) destroyHostBuffer(staging);
}

}  // namespace ll::widgets
