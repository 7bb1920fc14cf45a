#version 450

// Nearest-neighbour lookup with integer arithmetic (ll::widgets::texelForPixel) instead of
// interpolated texture coordinates: float interpolation may round differently from the
// QPainter fallback at texel boundaries, integers cannot. The sampler is still NEAREST so
// that any future texture() use stays crisp.
//
// The quotient is estimated in float and then corrected by integer products, not computed by
// integer division: SIMD units have no integer divide, so a software device (lavapipe) runs
// one per lane, and the two per fragment had cost a quarter of the frame (4,096 tiles of
// 28x28 panned at 59 frames/s with them, 81 with no lookup arithmetic at all).

// True when the swapchain is sRGB: the hardware then encodes our output, so hand it linear
// values to get the atlas bytes back on screen.
layout(constant_id = 0) const bool kLinearOutput = false;

layout(binding = 0) uniform sampler2D atlas;

layout(location = 0) flat in ivec4 v_rect;
layout(location = 1) flat in ivec2 v_texOrigin;
layout(location = 2) flat in ivec2 v_tileSize;
layout(location = 3) flat in vec2 v_inverseDenominator;  // 1 / (2 * extent), per axis

layout(location = 0) out vec4 fragColor;

// floor(((2 * (pixel - start) + 1) * tileSize) / (2 * extent)), exactly: the float estimate
// is within one of the quotient (both operands are far below 2^24 / 2), and the two integer
// comparisons move it onto the quotient.
int texelForPixel(int pixel, int start, int end, int tileSize, float inverseDenominator)
{
    int denominator = 2 * max(end - start, 1);
    int numerator = (2 * (pixel - start) + 1) * tileSize;
    int t = int(float(numerator) * inverseDenominator);
    t += int((t + 1) * denominator <= numerator) - int(t * denominator > numerator);
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
    ivec2 texel = v_texOrigin +
                  ivec2(texelForPixel(pixel.x, v_rect.x, v_rect.z, v_tileSize.x,
                                      v_inverseDenominator.x),
                        texelForPixel(pixel.y, v_rect.y, v_rect.w, v_tileSize.y,
                                      v_inverseDenominator.y));
    // Tiles are shown opaque (alpha ignored), as the QPainter fallback does.
    vec3 rgb = texelFetch(atlas, texel, 0).rgb;
    fragColor = vec4(kLinearOutput ? srgbToLinear(rgb) : rgb, 1.0);
}
