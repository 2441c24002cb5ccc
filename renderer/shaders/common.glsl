// The CPU path tracer (src/integrator.rs, material.rs, light.rs, texture.rs,
// sampler.rs) ported to GLSL, function for function, so every backend draws
// the same random numbers for the same sample and follows the same paths
// until floating-point rounding makes them part. A shader that includes this
// file defines the two ways of tracing a ray:
//   bool trace_closest(vec3 origin, vec3 dir, out Hit hit);
//   bool trace_occluded(vec3 origin, vec3 dir, float t_max);
// Layouts mirror src/vulkan/scene_data.rs (std430, vec4-aligned records).

#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

const float PI = 3.14159265358979;
const float FRAC_1_PI = 0.318309886183791;
#define INF uintBitsToFloat(0x7f800000u)
const float DIELECTRIC_F0 = 0.04;
const float MIN_ALPHA = 1e-3;
const uint ROULETTE_AFTER = 3u;
const uint NONE = 0xffffffffu;
const int ALBEDO_COS = 32;
const int ALBEDO_ROUGHNESS = 16;

layout(std430, set = 0, binding = 0) readonly buffer Params {
    vec4 cam_origin;
    vec4 cam_right;
    vec4 cam_down;
    vec4 cam_top_left;
    vec4 sky;         // rgb radiance, w: the sky's selection probability
    uvec4 dims;       // width, height, max_bounces, frame
    uvec4 counts;     // lights, has triangle lights, BVH nodes, triangles
    uvec4 seed;       // render seed low and high words
} params;

layout(std430, set = 0, binding = 1) buffer Accum { vec4 accum[]; };

struct Triangle {
    vec4 p0;  // w: material index (bits)
    vec4 p1;
    vec4 p2;
    vec4 n0;
    vec4 n1;
    vec4 n2;
    vec4 t0;
    vec4 t1;
    vec4 t2;
    vec4 uv01;
    vec4 uv2;
};
layout(std430, set = 0, binding = 5) readonly buffer Triangles { Triangle triangles[]; };

struct Material {
    vec4 base_color;
    vec4 emissive;    // w: metallic
    vec4 params;      // roughness, normal scale
    ivec4 textures;   // base colour, metallic-roughness, normal, emissive; -1 none
};
layout(std430, set = 0, binding = 6) readonly buffer Materials { Material materials[]; };

layout(std430, set = 0, binding = 7) readonly buffer TextureInfo { uvec4 texture_info[]; }; // first texel, width, height
layout(std430, set = 0, binding = 8) readonly buffer Texels { uint texels[]; };            // RGBA8

struct Light {
    vec4 a;  // w: kind (0 triangle, 1 point, 2 spot, 3 directional, 4 sky)
    vec4 b;
    vec4 c;
    vec4 d;
};
layout(std430, set = 0, binding = 9) readonly buffer Lights { Light lights[]; };
layout(std430, set = 0, binding = 10) readonly buffer LightPmf { vec2 light_pmf_cdf[]; };
layout(std430, set = 0, binding = 11) readonly buffer TriangleLight { uint triangle_light[]; };
// 256 sRGB decode entries, then the 16 x 32 dielectric albedo table.
layout(std430, set = 0, binding = 12) readonly buffer Tables { float tables[]; };

struct Hit {
    float t;
    float u;
    float v;
    uint triangle;
};

bool trace_closest(vec3 origin, vec3 dir, out Hit hit);
bool trace_occluded(vec3 origin, vec3 dir, float t_max);

// ---- sampler.rs -----------------------------------------------------------

uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}

struct Rng {
    uint64_t state;
    uint64_t inc;
};

const uint64_t PCG_MULTIPLIER = 6364136223846793005UL;

Rng rng_new(uint64_t seed, uint frame, uint64_t pixel, uint sample_index) {
    uint64_t h = mix64(seed ^ 0x9e3779b97f4a7c15UL);
    h = mix64(h ^ uint64_t(frame));
    h = mix64(h ^ pixel);
    uint64_t state_seed = mix64(h ^ uint64_t(sample_index));
    Rng r;
    r.inc = (mix64(state_seed ^ 0xda942042e4dd58b5UL) << 1) | 1UL;
    r.state = 0UL;
    r.state = r.state * PCG_MULTIPLIER + r.inc;
    r.state += state_seed;
    r.state = r.state * PCG_MULTIPLIER + r.inc;
    return r;
}

uint rng_u32(inout Rng r) {
    uint64_t old = r.state;
    r.state = old * PCG_MULTIPLIER + r.inc;
    uint xorshifted = uint(((old >> 18) ^ old) >> 27);
    uint rot = uint(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float rng_f32(inout Rng r) {
    return float(rng_u32(r) >> 8) * (1.0 / 16777216.0);
}

vec2 rng_2d(inout Rng r) {
    float x = rng_f32(r);
    float y = rng_f32(r);
    return vec2(x, y);
}

// ---- texture.rs -----------------------------------------------------------

vec4 texel(uint tex, uint x, uint y, bool srgb) {
    uvec4 info = texture_info[tex];
    uint p = texels[info.x + y * info.y + x];
    uvec4 c = uvec4(p & 0xffu, (p >> 8) & 0xffu, (p >> 16) & 0xffu, p >> 24);
    float alpha = float(c.w) * (1.0 / 255.0);
    if (srgb) {
        return vec4(tables[c.x], tables[c.y], tables[c.z], alpha);
    }
    return vec4(c) * (1.0 / 255.0);
}

uint wrap(float i, uint n) {
    float fn_ = float(n);
    float r = i - fn_ * trunc(i / fn_);
    if (r < 0.0) {
        r += fn_;
    }
    return min(uint(r), n - 1u);
}

vec4 sample_texture(int tex_index, vec2 uv, bool srgb) {
    uint tex = uint(tex_index);
    uvec4 info = texture_info[tex];
    if (info.y == 0u || info.z == 0u) {
        return vec4(1.0);
    }
    float x = uv.x * float(info.y) - 0.5;
    float y = uv.y * float(info.z) - 0.5;
    if (isnan(x) || isinf(x) || isnan(y) || isinf(y)) {
        return texel(tex, 0u, 0u, srgb);
    }
    float x0 = floor(x);
    float y0 = floor(y);
    float fx = x - x0;
    float fy = y - y0;
    uint xa = wrap(x0, info.y);
    uint xb = wrap(x0 + 1.0, info.y);
    uint ya = wrap(y0, info.z);
    uint yb = wrap(y0 + 1.0, info.z);
    vec4 top = mix(texel(tex, xa, ya, srgb), texel(tex, xb, ya, srgb), fx);
    vec4 bottom = mix(texel(tex, xa, yb, srgb), texel(tex, xb, yb, srgb), fx);
    return mix(top, bottom, fy);
}

// ---- material.rs ----------------------------------------------------------

float luminance(vec3 c) {
    return dot(c, vec3(0.2126, 0.7152, 0.0722));
}

float copysign1(float x) {
    return uintBitsToFloat((floatBitsToUint(x) & 0x80000000u) | 0x3f800000u);
}

struct Frame {
    vec3 t;
    vec3 b;
    vec3 n;
};

Frame frame_from_normal(vec3 n) {
    float s = copysign1(n.z);
    float a = -1.0 / (s + n.z);
    float b = n.x * n.y * a;
    Frame f;
    f.t = vec3(1.0 + s * n.x * n.x * a, s * b, -s * n.x);
    f.b = vec3(b, s + n.y * n.y * a, -n.y);
    f.n = n;
    return f;
}

vec3 to_local(Frame f, vec3 v) {
    return vec3(dot(v, f.t), dot(v, f.b), dot(v, f.n));
}

vec3 to_world(Frame f, vec3 v) {
    return f.t * v.x + f.b * v.y + f.n * v.z;
}

struct Bsdf {
    vec3 diffuse;
    vec3 f0;
    float alpha;
    float roughness;
};

Bsdf bsdf_new(vec3 base_color, float metallic, float roughness) {
    metallic = clamp(metallic, 0.0, 1.0);
    vec3 base = clamp(base_color, vec3(0.0), vec3(1.0));
    roughness = clamp(roughness, 0.0, 1.0);
    Bsdf b;
    b.diffuse = base * (1.0 - metallic);
    b.f0 = mix(vec3(DIELECTRIC_F0), base, metallic);
    b.alpha = max(roughness * roughness, MIN_ALPHA);
    b.roughness = roughness;
    return b;
}

float schlick_weight(float c) {
    float m = clamp(1.0 - c, 0.0, 1.0);
    float m2 = m * m;
    return m2 * m2 * m;
}

float specular_probability(Bsdf b, float cos_o) {
    float fw = schlick_weight(cos_o);
    float spec = luminance(b.f0 + (vec3(1.0) - b.f0) * fw);
    float diff = luminance(b.diffuse) * (1.0 - (DIELECTRIC_F0 + (1.0 - DIELECTRIC_F0) * fw));
    return spec + diff > 0.0 ? spec / (spec + diff) : 1.0;
}

float ggx_d(Bsdf b, vec3 h) {
    float a2 = b.alpha * b.alpha;
    float c2 = h.z * h.z;
    float denom = c2 * (a2 - 1.0) + 1.0;
    return a2 / (PI * denom * denom);
}

float ggx_lambda(Bsdf b, vec3 w) {
    float c2 = w.z * w.z;
    if (c2 <= 0.0) {
        return INF;
    }
    float tan2 = max(1.0 - c2, 0.0) / c2;
    return 0.5 * (sqrt(1.0 + b.alpha * b.alpha * tan2) - 1.0);
}

float dielectric_specular_albedo(float c, float roughness) {
    float x = clamp(c, 0.0, 1.0) * float(ALBEDO_COS - 1);
    float y = clamp(roughness, 0.0, 1.0) * float(ALBEDO_ROUGHNESS - 1);
    int x0 = int(x);
    int y0 = int(y);
    int x1 = min(x0 + 1, ALBEDO_COS - 1);
    int y1 = min(y0 + 1, ALBEDO_ROUGHNESS - 1);
    float fx = x - float(x0);
    float fy = y - float(y0);
    int base = 256;
    float r0 = tables[base + y0 * ALBEDO_COS + x0]
        + (tables[base + y0 * ALBEDO_COS + x1] - tables[base + y0 * ALBEDO_COS + x0]) * fx;
    float r1 = tables[base + y1 * ALBEDO_COS + x0]
        + (tables[base + y1 * ALBEDO_COS + x1] - tables[base + y1 * ALBEDO_COS + x0]) * fx;
    return r0 + (r1 - r0) * fy;
}

// f * cos(theta_i) in rgb, the mixture pdf in w.
vec4 bsdf_eval(Bsdf b, vec3 wo, vec3 wi) {
    if (wo.z <= 0.0 || wi.z <= 0.0) {
        return vec4(0.0);
    }
    vec3 h = normalize(wo + wi);
    float o_dot_h = max(dot(wo, h), 0.0);
    float fw = schlick_weight(o_dot_h);
    vec3 fresnel = b.f0 + (vec3(1.0) - b.f0) * fw;
    float d = ggx_d(b, h);
    float lambda_o = ggx_lambda(b, wo);
    float g2 = 1.0 / (1.0 + lambda_o + ggx_lambda(b, wi));
    float g1 = 1.0 / (1.0 + lambda_o);
    vec3 spec_cos = fresnel * (d * g2 / (4.0 * wo.z));
    vec3 diffuse_cos = vec3(0.0);
    if (b.diffuse != vec3(0.0)) {
        float diffuse_weight = 1.0 - dielectric_specular_albedo(wo.z, b.roughness);
        diffuse_cos = b.diffuse * (diffuse_weight * FRAC_1_PI * wi.z);
    }
    float p_spec = specular_probability(b, wo.z);
    float pdf = p_spec * (g1 * d / (4.0 * wo.z)) + (1.0 - p_spec) * wi.z * FRAC_1_PI;
    return vec4(spec_cos + diffuse_cos, pdf);
}

vec3 sample_visible_normal(Bsdf b, vec3 wo, vec2 u) {
    float a = b.alpha;
    vec3 vh = normalize(vec3(a * wo.x, a * wo.y, wo.z));
    float len2 = vh.x * vh.x + vh.y * vh.y;
    vec3 t1 = len2 > 0.0 ? vec3(-vh.y, vh.x, 0.0) * (1.0 / sqrt(len2)) : vec3(1.0, 0.0, 0.0);
    vec3 t2 = cross(vh, t1);
    float r = sqrt(u.x);
    float phi = 2.0 * PI * u.y;
    float p1 = r * cos(phi);
    float p2 = r * sin(phi);
    float blend = 0.5 * (1.0 + vh.z);
    p2 = (1.0 - blend) * sqrt(max(1.0 - p1 * p1, 0.0)) + blend * p2;
    vec3 nh = t1 * p1 + t2 * p2 + vh * sqrt(max(1.0 - p1 * p1 - p2 * p2, 0.0));
    return normalize(vec3(a * nh.x, a * nh.y, max(nh.z, 1e-6)));
}

// Draws wi for wo; false when no sample. weight = f cos / pdf.
bool bsdf_sample(Bsdf b, vec3 wo, float u_lobe, vec2 u, out vec3 wi, out vec3 weight, out float pdf) {
    wi = vec3(0.0);
    weight = vec3(0.0);
    pdf = 0.0;
    if (wo.z <= 0.0) {
        return false;
    }
    if (u_lobe < specular_probability(b, wo.z)) {
        vec3 h = sample_visible_normal(b, wo, u);
        wi = 2.0 * dot(wo, h) * h - wo;
        if (wi.z <= 0.0) {
            return false;
        }
    } else {
        float r = sqrt(u.x);
        float phi = 2.0 * PI * u.y;
        wi = vec3(r * cos(phi), r * sin(phi), sqrt(max(1.0 - u.x, 0.0)));
    }
    vec4 e = bsdf_eval(b, wo, wi);
    pdf = e.w;
    if (!(pdf > 0.0) || isinf(pdf)) {
        return false;
    }
    weight = e.xyz / pdf;
    return true;
}

Material material_of(uint index) {
    return materials[index];
}

Bsdf resolve(Material m, vec2 uv) {
    vec3 base = m.base_color.xyz;
    if (m.textures.x >= 0) {
        base *= sample_texture(m.textures.x, uv, true).xyz;
    }
    float metallic = m.emissive.w;
    float roughness = m.params.x;
    if (m.textures.y >= 0) {
        vec4 mr = sample_texture(m.textures.y, uv, false);
        roughness *= mr.y;
        metallic *= mr.z;
    }
    return bsdf_new(base, metallic, roughness);
}

vec3 emission(Material m, vec2 uv) {
    if (m.emissive.xyz == vec3(0.0)) {
        return vec3(0.0);
    }
    if (m.textures.w >= 0) {
        return m.emissive.xyz * sample_texture(m.textures.w, uv, true).xyz;
    }
    return m.emissive.xyz;
}

// ---- light.rs -------------------------------------------------------------

struct LightSample {
    vec3 wi;
    vec3 radiance;
    float pdf;
    float distance;
    bool is_delta;
};

float range_window(float distance, float range) {
    if (range > 0.0) {
        float x = distance / range;
        float x2 = x * x;
        float w = clamp(1.0 - x2 * x2, 0.0, 1.0);
        return w * w;
    }
    return 1.0;
}

bool sample_light(vec3 p, vec3 n, float u_select, vec2 u, out LightSample ls) {
    ls.wi = vec3(0.0);
    ls.radiance = vec3(0.0);
    ls.pdf = 0.0;
    ls.distance = 0.0;
    ls.is_delta = false;
    uint count = params.counts.x;
    if (count == 0u) {
        return false;
    }
    // partition_point(cdf <= u_select)
    uint lo = 0u;
    uint hi = count;
    while (lo < hi) {
        uint mid = (lo + hi) / 2u;
        if (light_pmf_cdf[mid].y <= u_select) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    uint index = min(lo, count - 1u);
    float pmf = light_pmf_cdf[index].x;
    if (isnan(pmf) || pmf <= 0.0) {
        return false;
    }
    Light l = lights[index];
    uint kind = floatBitsToUint(l.a.w);
    if (kind == 0u) {
        // a: p0, b: e1 (w: area), c: e2 (w: triangle), d: normal
        float su = sqrt(u.x);
        float b1 = su * (1.0 - u.y);
        float b2 = su * u.y;
        vec3 point = l.a.xyz + l.b.xyz * b1 + l.c.xyz * b2;
        vec3 d = point - p;
        float dist2 = dot(d, d);
        if (isnan(dist2) || dist2 <= 0.0) {
            return false;
        }
        float dist = sqrt(dist2);
        vec3 wi = d / dist;
        float cos_light = abs(dot(l.d.xyz, wi));
        if (cos_light <= 1e-7) {
            return false;
        }
        Triangle tri = triangles[floatBitsToUint(l.c.w)];
        vec2 uv = tri.uv01.xy * (1.0 - b1 - b2) + tri.uv01.zw * b1 + tri.uv2.xy * b2;
        ls.wi = wi;
        ls.radiance = emission(material_of(floatBitsToUint(tri.p0.w)), uv);
        ls.pdf = pmf * dist2 / (cos_light * l.b.w);
        ls.distance = dist;
        return true;
    }
    if (kind == 1u || kind == 2u) {
        // a: position, b: intensity (w: range, 0 none), c: direction (w: cos outer), d.x: cone scale
        vec3 d = l.a.xyz - p;
        float dist2 = dot(d, d);
        if (isnan(dist2) || dist2 <= 0.0) {
            return false;
        }
        float dist = sqrt(dist2);
        vec3 wi = d / dist;
        float falloff = 1.0;
        if (kind == 2u) {
            float t = clamp((dot(l.c.xyz, -wi) - l.c.w) * l.d.x, 0.0, 1.0);
            falloff = t * t;
            if (falloff <= 0.0) {
                return false;
            }
        }
        ls.wi = wi;
        ls.radiance = l.b.xyz * (falloff * range_window(dist, l.b.w) / dist2);
        ls.pdf = pmf;
        ls.distance = dist;
        ls.is_delta = true;
        return true;
    }
    if (kind == 3u) {
        // a: towards the light, b: irradiance
        ls.wi = l.a.xyz;
        ls.radiance = l.b.xyz;
        ls.pdf = pmf;
        ls.distance = INF;
        ls.is_delta = true;
        return true;
    }
    // The sky: a: radiance.
    float r = sqrt(u.x);
    float phi = 2.0 * PI * u.y;
    vec3 local = vec3(r * cos(phi), r * sin(phi), sqrt(max(1.0 - u.x, 0.0)));
    if (local.z <= 0.0) {
        return false;
    }
    ls.wi = to_world(frame_from_normal(n), local);
    ls.radiance = l.a.xyz;
    ls.pdf = pmf * local.z * FRAC_1_PI;
    ls.distance = INF;
    return true;
}

float triangle_pdf(uint triangle, vec3 dir, float t) {
    if (params.counts.y == 0u) {
        return 0.0;
    }
    uint index = triangle_light[triangle];
    if (index == NONE) {
        return 0.0;
    }
    Light l = lights[index];
    float cos_light = abs(dot(l.d.xyz, dir));
    if (cos_light <= 1e-7) {
        return 0.0;
    }
    return light_pmf_cdf[index].x * t * t / (cos_light * l.b.w);
}

float sky_pdf(vec3 n, vec3 wi) {
    return params.sky.w * max(dot(n, wi), 0.0) * FRAC_1_PI;
}

// ---- integrator.rs --------------------------------------------------------

float power_heuristic(float a, float b) {
    float a2 = a * a;
    float b2 = b * b;
    if (isinf(a2)) {
        return 1.0;
    }
    return a2 + b2 > 0.0 ? a2 / (a2 + b2) : 0.0;
}

vec3 offset_origin(vec3 p, vec3 n) {
    vec3 a = abs(p);
    return p + n * (3e-5 * (1.0 + max(a.x, max(a.y, a.z))));
}

vec3 try_normalize(vec3 v, vec3 fallback) {
    float len2 = dot(v, v);
    if (!(len2 > 0.0) || isinf(len2)) {
        return fallback;
    }
    vec3 n = v * (1.0 / sqrt(len2));
    return (isnan(n.x) || isinf(n.x)) ? fallback : n;
}

vec3 perturb_normal(Triangle tri, vec3 b, vec3 ns, vec3 tn) {
    vec4 t4 = tri.t0 * b.x + tri.t1 * b.y + tri.t2 * b.z;
    vec3 t = t4.xyz;
    float sgn = tri.t0.w < 0.0 ? -1.0 : 1.0;
    if (dot(t, t) < 1e-12) {
        vec3 dp1 = tri.p1.xyz - tri.p0.xyz;
        vec3 dp2 = tri.p2.xyz - tri.p0.xyz;
        vec2 duv1 = tri.uv01.zw - tri.uv01.xy;
        vec2 duv2 = tri.uv2.xy - tri.uv01.xy;
        float det = duv1.x * duv2.y - duv1.y * duv2.x;
        if (abs(det) > 1e-12) {
            vec3 dpdu = (dp1 * duv2.y - dp2 * duv1.y) / det;
            vec3 dpdv = (dp2 * duv1.x - dp1 * duv2.x) / det;
            t = dpdu;
            sgn = dot(cross(ns, dpdu), dpdv) > 0.0 ? -1.0 : 1.0;
        } else {
            t = frame_from_normal(ns).t;
            sgn = 1.0;
        }
    }
    t = try_normalize(t - ns * dot(ns, t), frame_from_normal(ns).t);
    vec3 bitangent = cross(ns, t) * sgn;
    return try_normalize(t * tn.x + bitangent * tn.y + ns * tn.z, ns);
}

struct SurfacePoint {
    vec3 p;
    vec3 ng;
    vec3 ns;
    vec2 uv;
};

SurfacePoint surface_point(Triangle tri, Material m, Hit hit, vec3 wo) {
    float b1 = hit.u;
    float b2 = hit.v;
    float b0 = 1.0 - b1 - b2;
    SurfacePoint sp;
    sp.p = tri.p0.xyz * b0 + tri.p1.xyz * b1 + tri.p2.xyz * b2;
    vec3 ng = try_normalize(cross(tri.p1.xyz - tri.p0.xyz, tri.p2.xyz - tri.p0.xyz), vec3(0.0));
    if (ng == vec3(0.0)) {
        ng = wo;
    }
    sp.uv = tri.uv01.xy * b0 + tri.uv01.zw * b1 + tri.uv2.xy * b2;
    vec3 ns = try_normalize(tri.n0.xyz * b0 + tri.n1.xyz * b1 + tri.n2.xyz * b2, ng);
    if (m.textures.z >= 0) {
        vec3 tn = sample_texture(m.textures.z, sp.uv, false).xyz * 2.0 - vec3(1.0);
        tn = vec3(tn.x * m.params.y, tn.y * m.params.y, tn.z);
        ns = perturb_normal(tri, vec3(b0, b1, b2), ns, tn);
    }
    if (dot(ng, wo) < 0.0) {
        ng = -ng;
        ns = -ns;
    }
    if (dot(ns, wo) <= 1e-4) {
        ns = ng;
    }
    sp.ng = ng;
    sp.ns = ns;
    return sp;
}

vec3 radiance(vec3 origin, vec3 dir, inout Rng rng) {
    vec3 l = vec3(0.0);
    vec3 beta = vec3(1.0);
    float bsdf_pdf = 0.0;
    vec3 prev_ns = vec3(0.0, 0.0, 1.0);
    uint depth = 0u;
    uint max_bounces = params.dims.z;
    for (;;) {
        Hit hit;
        if (!trace_closest(origin, dir, hit)) {
            vec3 sky = params.sky.xyz;
            if (sky != vec3(0.0)) {
                float w = bsdf_pdf > 0.0 ? power_heuristic(bsdf_pdf, sky_pdf(prev_ns, dir)) : 1.0;
                l += beta * sky * w;
            }
            break;
        }
        Triangle tri = triangles[hit.triangle];
        Material m = material_of(floatBitsToUint(tri.p0.w));
        vec3 wo = -dir;
        SurfacePoint sp = surface_point(tri, m, hit, wo);

        vec3 emitted = emission(m, sp.uv);
        if (emitted != vec3(0.0)) {
            float w = bsdf_pdf > 0.0
                ? power_heuristic(bsdf_pdf, triangle_pdf(hit.triangle, dir, hit.t))
                : 1.0;
            l += beta * emitted * w;
        }
        if (depth > max_bounces) {
            break;
        }

        Bsdf bsdf = resolve(m, sp.uv);
        Frame frame = frame_from_normal(sp.ns);
        vec3 wo_local = to_local(frame, wo);
        vec3 ray_origin = offset_origin(sp.p, sp.ng);

        // Next-event estimation: what the light sample adds if its shadow
        // ray gets through. That ray is traced after the continuation is
        // drawn (the same random numbers in the same order as the CPU), so
        // little state lives across a trace: a ray-tracing pipeline saves
        // all of it at every traceRayEXT.
        float u_light = rng_f32(rng);
        vec2 u_point = rng_2d(rng);
        bool shadow = false;
        vec3 shadow_dir = vec3(0.0);
        float shadow_t = 0.0;
        vec3 unoccluded = vec3(0.0);
        LightSample ls;
        if (sample_light(sp.p, sp.ns, u_light, u_point, ls)) {
            if (ls.radiance != vec3(0.0) && dot(ls.wi, sp.ng) > 0.0) {
                vec4 e = bsdf_eval(bsdf, wo_local, to_local(frame, ls.wi));
                if (e.xyz != vec3(0.0)) {
                    float w = ls.is_delta ? 1.0 : power_heuristic(ls.pdf, e.w);
                    unoccluded = beta * e.xyz * ls.radiance * (w / ls.pdf);
                    shadow = true;
                    shadow_dir = ls.wi;
                    shadow_t = isinf(ls.distance) ? INF : ls.distance * (1.0 - 1e-4);
                }
            }
        }

        // Continue the path (or not).
        float u_lobe = rng_f32(rng);
        vec2 u_dir = rng_2d(rng);
        vec3 wi_local;
        vec3 weight;
        float pdf;
        bool go_on = bsdf_sample(bsdf, wo_local, u_lobe, u_dir, wi_local, weight, pdf);
        vec3 wi = vec3(0.0);
        if (go_on) {
            wi = to_world(frame, wi_local);
            // Below the geometric surface: a shading-normal artefact.
            go_on = dot(wi, sp.ng) > 0.0;
        }
        if (go_on) {
            beta *= weight;
            bsdf_pdf = pdf;
            prev_ns = sp.ns;
            depth += 1u;
            if (depth > ROULETTE_AFTER) {
                float survival = max(beta.x, max(beta.y, beta.z));
                float u = rng_f32(rng);
                if (survival < 1.0) {
                    if (u >= survival) {
                        go_on = false;
                    } else {
                        beta /= survival;
                    }
                }
            }
        }

        if (shadow && !trace_occluded(ray_origin, shadow_dir, shadow_t)) {
            l += unoccluded;
        }
        if (!go_on) {
            break;
        }
        origin = ray_origin;
        dir = normalize(wi);
    }
    return l;
}

// Adds samples [first, end) of pixel (x, y) to its running sum, in order,
// skipping non-finite ones as the CPU does.
void render_pixel(uint x, uint y, uint first, uint end) {
    uint width = params.dims.x;
    uint64_t index = uint64_t(y) * uint64_t(width) + uint64_t(x);
    uint64_t seed = uint64_t(params.seed.x) | (uint64_t(params.seed.y) << 32);
    vec4 acc = first == 0u ? vec4(0.0) : accum[uint(index)];
    for (uint s = first; s < end; s++) {
        Rng rng = rng_new(seed, params.dims.w, index, s);
        vec2 jitter = rng_2d(rng);
        vec3 dir = normalize(params.cam_top_left.xyz + params.cam_right.xyz * (float(x) + jitter.x)
            + params.cam_down.xyz * (float(y) + jitter.y));
        vec3 l = radiance(params.cam_origin.xyz, dir, rng);
        if (!any(isnan(l)) && !any(isinf(l))) {
            acc += vec4(l, 1.0);
        }
    }
    accum[uint(index)] = acc;
}
