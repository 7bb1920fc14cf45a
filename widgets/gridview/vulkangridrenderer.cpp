#include "gridview/vulkangridrenderer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include <QFile>
#include <QTimer>
#include <QVulkanDeviceFunctions>
#include <QVulkanFunctions>

#include "gridview/gridcolors.h"
#include "gridview/gridlayout.h"
#include "gridview/vulkangridwindow.h"

namespace ll::widgets {

namespace {

// Matches the push_constant block of grid.vert and grid.frag.
struct PushConstants {
    std::int32_t rect[4];
    float background[4];
    std::int32_t viewSize[2];
};
static_assert(sizeof(PushConstants) == 40);
constexpr VkShaderStageFlags kPushStages =
    VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;

bool isSrgb(VkFormat format) {
    return format == VK_FORMAT_B8G8R8A8_SRGB || format == VK_FORMAT_R8G8B8A8_SRGB ||
           format == VK_FORMAT_A8B8G8R8_SRGB_PACK32;
}

float srgbToLinear(float c) {
    return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
}

}  // namespace

GridRenderer::GridRenderer(VulkanGridWindow* window) : m_window(window) {}

void GridRenderer::fail(const QString& reason) {
    qWarning("GridView: Vulkan rendering failed: %s", qPrintable(reason));
    m_ready = false;
    // Queued: the owner replaces this window, which must not happen inside a frame.
    QTimer::singleShot(0, m_window, [w = m_window, reason] { Q_EMIT w->renderingFailed(reason); });
}

void GridRenderer::initResources() {
    m_dev = m_window->device();
    m_df = m_window->vulkanInstance()->deviceFunctions(m_dev);
    const VkFormat format = m_window->colorFormat();
    m_window->m_bgraSwapchain =
        format == VK_FORMAT_B8G8R8A8_UNORM || format == VK_FORMAT_B8G8R8A8_SRGB;
    m_linearOutput = isSrgb(format);

    const VkSamplerCreateInfo samplerInfo{
        .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
        .magFilter = VK_FILTER_NEAREST,
        .minFilter = VK_FILTER_NEAREST,
        .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
        .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .maxAnisotropy = 1.0f,
    };
    if (m_df->vkCreateSampler(m_dev, &samplerInfo, nullptr, &m_sampler) != VK_SUCCESS)
        return fail(QStringLiteral("cannot create the sampler"));

    const VkDescriptorSetLayoutBinding bindings[2] = {
        {.binding = 0,
         .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT},
        {.binding = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT},
    };
    const VkDescriptorSetLayoutCreateInfo setLayoutInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 2,
        .pBindings = bindings,
    };
    if (m_df->vkCreateDescriptorSetLayout(m_dev, &setLayoutInfo, nullptr, &m_setLayout) !=
        VK_SUCCESS)
        return fail(QStringLiteral("cannot create the descriptor set layout"));

    const VkDescriptorPoolSize poolSizes[2] = {
        {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1},
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC, 1},
    };
    const VkDescriptorPoolCreateInfo poolInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = 1,
        .poolSizeCount = 2,
        .pPoolSizes = poolSizes,
    };
    if (m_df->vkCreateDescriptorPool(m_dev, &poolInfo, nullptr, &m_descriptorPool) != VK_SUCCESS)
        return fail(QStringLiteral("cannot create the descriptor pool"));
    const VkDescriptorSetAllocateInfo setInfo{
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = m_descriptorPool,
        .descriptorSetCount = 1,
        .pSetLayouts = &m_setLayout,
    };
    if (m_df->vkAllocateDescriptorSets(m_dev, &setInfo, &m_descriptorSet) != VK_SUCCESS)
        return fail(QStringLiteral("cannot allocate the descriptor set"));

    if (!createRenderPass() || !createPipeline()) return;
    // After a device loss everything is rebuilt, the texture included.
    if (m_window->m_grid) m_window->m_uploadPending = true;
    m_ready = true;
}

VkShaderModule GridRenderer::loadShader(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return VK_NULL_HANDLE;
    const QByteArray code = file.readAll();
    const VkShaderModuleCreateInfo info{
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = static_cast<size_t>(code.size()),
        .pCode = reinterpret_cast<const uint32_t*>(code.constData()),
    };
    VkShaderModule module = VK_NULL_HANDLE;
    if (m_df->vkCreateShaderModule(m_dev, &info, nullptr, &module) != VK_SUCCESS)
        return VK_NULL_HANDLE;
    return module;
}

bool GridRenderer::createRenderPass() {
    // The window is never multisampled (VulkanGridWindow leaves the sample count at 1), so one
    // colour attachment that the pass clears (the margins around the tiles are never drawn)
    // and leaves ready to present, as QVulkanWindow's own pass does (grab() relies on that
    // layout), without its depth attachment.
    const VkAttachmentDescription color{
        .format = m_window->colorFormat(),
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .finalLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
    };
    const VkAttachmentReference colorRef{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    const VkSubpassDescription subpass{
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 1,
        .pColorAttachments = &colorRef,
    };
    // The swapchain image is acquired with a semaphore waited on at the colour-output stage:
    // the layout transition must wait there too.
    const VkSubpassDependency acquire{
        .srcSubpass = VK_SUBPASS_EXTERNAL,
        .dstSubpass = 0,
        .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
        .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
        .srcAccessMask = 0,
        .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
    };
    const VkRenderPassCreateInfo info{
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &color,
        .subpassCount = 1,
        .pSubpasses = &subpass,
        .dependencyCount = 1,
        .pDependencies = &acquire,
    };
    if (m_df->vkCreateRenderPass(m_dev, &info, nullptr, &m_renderPass) != VK_SUCCESS) {
        m_renderPass = VK_NULL_HANDLE;
        fail(QStringLiteral("cannot create the render pass"));
        return false;
    }
    return true;
}

bool GridRenderer::createFramebuffers() {
    const QSize size = m_window->swapChainImageSize();
    const int count = m_window->swapChainImageCount();
    m_framebuffers.assign(std::size_t(count), VK_NULL_HANDLE);
    for (int i = 0; i < count; ++i) {
        const VkImageView view = m_window->swapChainImageView(i);
        const VkFramebufferCreateInfo info{
            .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
            .renderPass = m_renderPass,
            .attachmentCount = 1,
            .pAttachments = &view,
            .width = uint32_t(size.width()),
            .height = uint32_t(size.height()),
            .layers = 1,
        };
        if (m_df->vkCreateFramebuffer(m_dev, &info, nullptr, &m_framebuffers[std::size_t(i)]) !=
            VK_SUCCESS) {
            m_framebuffers[std::size_t(i)] = VK_NULL_HANDLE;
            fail(QStringLiteral("cannot create the framebuffers"));
            return false;
        }
    }
    return true;
}

void GridRenderer::destroyFramebuffers() {
    for (VkFramebuffer framebuffer : m_framebuffers)
        if (framebuffer) m_df->vkDestroyFramebuffer(m_dev, framebuffer, nullptr);
    m_framebuffers.clear();
}

bool GridRenderer::createPipeline() {
    const VkPushConstantRange pushRange{kPushStages, 0, sizeof(PushConstants)};
    const VkPipelineLayoutCreateInfo layoutInfo{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &m_setLayout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pushRange,
    };
    if (m_df->vkCreatePipelineLayout(m_dev, &layoutInfo, nullptr, &m_pipelineLayout) !=
        VK_SUCCESS) {
        fail(QStringLiteral("cannot create the pipeline layout"));
        return false;
    }

    const VkShaderModule vert = loadShader(QStringLiteral(":/shaders/grid.vert.spv"));
    const VkShaderModule frag = loadShader(QStringLiteral(":/shaders/grid.frag.spv"));
    const VkBool32 linearOutput = m_linearOutput ? VK_TRUE : VK_FALSE;
    const VkSpecializationMapEntry specEntry{0, 0, sizeof(VkBool32)};
    const VkSpecializationInfo specInfo{1, &specEntry, sizeof(VkBool32), &linearOutput};
    const VkPipelineShaderStageCreateInfo stages[2] = {
        {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_VERTEX_BIT,
         .module = vert,
         .pName = "main"},
        {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
         .module = frag,
         .pName = "main",
         .pSpecializationInfo = &specInfo},
    };
    const VkPipelineVertexInputStateCreateInfo vertexInput{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    const VkPipelineInputAssemblyStateCreateInfo inputAssembly{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST};
    const VkPipelineViewportStateCreateInfo viewport{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
        .viewportCount = 1,
        .scissorCount = 1};
    const VkPipelineRasterizationStateCreateInfo raster{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
        .polygonMode = VK_POLYGON_MODE_FILL,
        .cullMode = VK_CULL_MODE_NONE,
        .frontFace = VK_FRONT_FACE_CLOCKWISE,
        .lineWidth = 1.0f};
    const VkPipelineMultisampleStateCreateInfo multisample{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
        .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT};
    const VkPipelineColorBlendAttachmentState blendAttachment{
        .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                          VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT};
    const VkPipelineColorBlendStateCreateInfo blend{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &blendAttachment};
    const VkDynamicState dynamicStates[] = {VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
    const VkPipelineDynamicStateCreateInfo dynamic{
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
        .dynamicStateCount = 2,
        .pDynamicStates = dynamicStates};
    const VkGraphicsPipelineCreateInfo pipelineInfo{
        .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
        .stageCount = 2,
        .pStages = stages,
        .pVertexInputState = &vertexInput,
        .pInputAssemblyState = &inputAssembly,
        .pViewportState = &viewport,
        .pRasterizationState = &raster,
        .pMultisampleState = &multisample,
        .pColorBlendState = &blend,
        .pDynamicState = &dynamic,
        .layout = m_pipelineLayout,
        .renderPass = m_renderPass};

    VkResult err = VK_ERROR_INITIALIZATION_FAILED;
    if (vert && frag)
        err = m_df->vkCreateGraphicsPipelines(m_dev, VK_NULL_HANDLE, 1, &pipelineInfo, nullptr,
                                              &m_pipeline);
    if (vert) m_df->vkDestroyShaderModule(m_dev, vert, nullptr);
    if (frag) m_df->vkDestroyShaderModule(m_dev, frag, nullptr);
    if (!vert || !frag) {
        fail(QStringLiteral("cannot load the grid shaders"));
        return false;
    }
    if (err != VK_SUCCESS) {
        fail(QStringLiteral("cannot create the graphics pipeline (%1)").arg(err));
        return false;
    }
    return true;
}

void GridRenderer::initSwapChainResources() {
    m_staging.resize(static_cast<std::size_t>(m_window->swapChainImageCount()));
    if (!m_ready) return;
    if (!createFramebuffers()) destroyFramebuffers();
    // Without a texel map a frame can only clear: the QPainter fallback that this failure
    // switches to shows the grid instead.
    if (!createTexelMap()) fail(QStringLiteral("cannot create the texel map buffer"));
}

void GridRenderer::releaseSwapChainResources() {
    // QVulkanWindow has waited for the device to go idle, so no buffer is in use.
    destroyStaging();
    destroyTexelMap();
    destroyFramebuffers();
}

void GridRenderer::releaseResources() {
    destroyStaging();
    destroyTexelMap();
    destroyFramebuffers();
    destroyTexture();
    if (m_renderPass) m_df->vkDestroyRenderPass(m_dev, m_renderPass, nullptr);
    if (m_pipeline) m_df->vkDestroyPipeline(m_dev, m_pipeline, nullptr);
    if (m_pipelineLayout) m_df->vkDestroyPipelineLayout(m_dev, m_pipelineLayout, nullptr);
    if (m_descriptorPool) m_df->vkDestroyDescriptorPool(m_dev, m_descriptorPool, nullptr);
    if (m_setLayout) m_df->vkDestroyDescriptorSetLayout(m_dev, m_setLayout, nullptr);
    if (m_sampler) m_df->vkDestroySampler(m_dev, m_sampler, nullptr);
    m_renderPass = VK_NULL_HANDLE;
    m_pipeline = VK_NULL_HANDLE;
    m_pipelineLayout = VK_NULL_HANDLE;
    m_descriptorPool = VK_NULL_HANDLE;
    m_descriptorSet = VK_NULL_HANDLE;
    m_setLayout = VK_NULL_HANDLE;
    m_sampler = VK_NULL_HANDLE;
    m_rows = m_cols = 0;
    m_ready = false;
}

void GridRenderer::startNextFrame() {
    const VkCommandBuffer cb = m_window->currentCommandBuffer();
    if (m_ready && m_window->m_uploadPending) {
        m_window->m_uploadPending = false;
        using Clock = std::chrono::steady_clock;
        const Clock::time_point start = Clock::now();
        const bool uploaded = recordUpload(cb);
        m_window->m_lastUploadMicroseconds =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        if (uploaded)
            m_window->m_shownGeneration = m_window->m_gridGeneration;
        else
            fail(QStringLiteral("cannot upload the grid texture"));
    }

    const QSize size = m_window->swapChainImageSize();
    float rgb[3] = {kBackgroundColor.redF(), kBackgroundColor.greenF(), kBackgroundColor.blueF()};
    if (m_linearOutput)
        for (float& c : rgb) c = srgbToLinear(c);
    VkClearValue clearValues[2];
    std::memset(clearValues, 0, sizeof(clearValues));
    clearValues[0].color = {{rgb[0], rgb[1], rgb[2], 1.0f}};
    clearValues[1].depthStencil = {1.0f, 0};
    // After a failure the pipeline or framebuffers may be missing; QVulkanWindow's own pass
    // (colour and depth) still clears the image and leaves it ready to present.
    const auto index = std::size_t(m_window->currentSwapChainImageIndex());
    const bool drawing = m_ready && index < m_framebuffers.size() && m_framebuffers[index];
    // A grid's frame needs its texel map, made for this swapchain (none for an empty one).
    const bool gridFrame = drawing && m_rows > 0 && m_cols > 0 && m_texelMapData;
    const VkRenderPassBeginInfo passInfo{
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
        .renderPass = drawing ? m_renderPass : m_window->defaultRenderPass(),
        .framebuffer = drawing ? m_framebuffers[index] : m_window->currentFramebuffer(),
        .renderArea = {{0, 0}, {uint32_t(size.width()), uint32_t(size.height())}},
        .clearValueCount = drawing ? 1u : 2u,
        .pClearValues = clearValues};
    m_df->vkCmdBeginRenderPass(cb, &passInfo, VK_SUBPASS_CONTENTS_INLINE);
    if (gridFrame) recordDraw(cb, index);
    m_df->vkCmdEndRenderPass(cb);

    m_window->frameReady();
    // Grabs render an extra frame of the same content; they are not new frames for listeners.
    // Queued so that a receiver may grab or change the view outside startNextFrame(); by then
    // a newer grid may have arrived, whose own frame will announce itself.
    if (!m_window->m_grabbing && m_ready) {
        QTimer::singleShot(0, m_window, [w = m_window] {
            if (w->m_shownGeneration == w->m_gridGeneration) Q_EMIT w->frameRendered();
        });
    }
}

void GridRenderer::recordDraw(VkCommandBuffer cb, std::size_t imageIndex) {
    const QSize size = m_window->swapChainImageSize();
    const GridLayout layout =
        makeGridLayout(size.width(), size.height(), m_rows, m_cols, m_tileWidth, m_tileHeight,
                       m_window->m_zoom, float(m_window->m_pan.x()), float(m_window->m_pan.y()));
    // This image's slice: its previous frame has finished (see m_staging), so it is free.
    const VkDeviceSize offset = m_texelMapStride * imageIndex;
    std::int32_t* map = m_texelMapData + offset / sizeof(std::int32_t);
    layout.fillTexelMap({map, std::size_t(size.width())},
                        {map + size.width(), std::size_t(size.height())});
    // The tiles' bounding box inside the view; nothing to draw when it is empty (panned off).
    const TileRect first = layout.tileRect(0, 0);
    const TileRect last = layout.tileRect(m_rows - 1, m_cols - 1);
    const int left = std::max(first.left, 0);
    const int top = std::max(first.top, 0);
    const int right = std::min(last.right, size.width());
    const int bottom = std::min(last.bottom, size.height());
    if (left >= right || top >= bottom) return;
    // The shader converts the background as it does the atlas, so it is handed sRGB-encoded.
    const PushConstants pc{
        .rect = {left, top, right, bottom},
        .background = {kBackgroundColor.redF(), kBackgroundColor.greenF(), kBackgroundColor.blueF(),
                       1.0f},
        .viewSize = {size.width(), size.height()},
    };
    const VkViewport viewport{0.0f, 0.0f, float(size.width()), float(size.height()), 0.0f, 1.0f};
    const VkRect2D scissor{{0, 0}, {uint32_t(size.width()), uint32_t(size.height())}};
    const auto dynamicOffset = static_cast<uint32_t>(offset);
    m_df->vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, m_pipeline);
    m_df->vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, m_pipelineLayout, 0, 1,
                                  &m_descriptorSet, 1, &dynamicOffset);
    m_df->vkCmdPushConstants(cb, m_pipelineLayout, kPushStages, 0, sizeof(pc), &pc);
    m_df->vkCmdSetViewport(cb, 0, 1, &viewport);
    m_df->vkCmdSetScissor(cb, 0, 1, &scissor);
    m_df->vkCmdDraw(cb, 6, 1, 0, 0);
}

}  // namespace ll::widgets
