#version 450

// Nearest-neighbour lookup with integer arithmetic (ll::widgets::texelForPixel) instead of
// interpolated texture coordinates: float interpolation may round differently from the
// QPainter fallback at texel boundaries, integers cannot. The sampler is still NEAREST so
// that any future texture() use stays crisp.

// True when the swapchain is sRGB: the hardware then encodes our output, so hand it linear
// values to get the atlas bytes back on screen.
layout(constant_id = 0) const bool kLinearOutput = false;

layout(binding = 0) uniform sampler2D atlas;

layout(location = 0) flat in ivec4 v_rect;
layout(location = 1) flat in ivec2 v_texOrigin;
layout(location = 2) flat in ivec2 v_tileSize;

layout(location = 0) out vec4 fragColor;

int texelForPixel(int pixel, int start, int end, int tileSize)
{
    int extent = max(end - start, 1);
    int t = ((2 * (pixel - start) + 1) * tileSize) / (2 * extent);
    return clamp(t, 0, tileSize - 1);
}

vec3 srgbToLinear(vec3 c)
{
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(vec3(0.04045), c));
}

void main()
{
    // Fragment centres sit at pixel + 0.5, so truncation gives the pixel exactly.
    ivec2 pixel = ivec2(gl_FragCoord.xy);
    ivec2 texel = v_texOrigin + ivec2(texelForPixel(pixel.x, v_rect.x, v_rect.z, v_tileSize.x),
                                      texelForPixel(pixel.y, v_rect.y, v_rect.w, v_tileSize.y));
    // Tiles are shown opaque (alpha ignored), as the QPainter fallback does.
    vec3 rgb = texelFetch(atlas, texel, 0).rgb;
    fragColor = vec4(kLinearOutput ? srgbToLinear(rgb) : rgb, 1.0);
}
