// vulkan-compute: the path tracer as a compute shader, walking the CPU
// backend's BVH (src/bvh.rs: same nodes, same near-child-first order).
#version 460
#include "common.glsl"

layout(local_size_x = 8, local_size_y = 8) in;

layout(push_constant) uniform Pass {
    uint first_sample;
    uint end_sample;
} pass_;

struct Node {
    vec4 min_left;   // w: leaf: first triangle; interior: right child (bits)
    vec4 max_count;  // w: leaf: triangle count; interior: 0 (bits)
};
layout(std430, set = 0, binding = 2) readonly buffer Nodes { Node nodes[]; };
// Per triangle in leaf order: v0, e1, e2.
layout(std430, set = 0, binding = 3) readonly buffer Accel { vec4 accel[]; };
layout(std430, set = 0, binding = 4) readonly buffer Ids { uint ids[]; };

const uint STACK_SIZE = 64u;

float slab(uint node, vec3 inv_dir, vec3 origin_scaled, float t_max) {
    vec3 t0 = nodes[node].min_left.xyz * inv_dir - origin_scaled;
    vec3 t1 = nodes[node].max_count.xyz * inv_dir - origin_scaled;
    vec3 lo = min(t0, t1);
    vec3 hi = max(t0, t1);
    float near = max(max(max(lo.x, lo.y), lo.z), 0.0);
    float far = min(min(min(hi.x, hi.y), hi.z), t_max);
    return near <= far ? near : INF;
}

// Möller-Trumbore, both faces; NaNs reject. Returns t, or -1.
bool hit_triangle(uint i, vec3 origin, vec3 dir, float t_max, out vec3 tuv) {
    vec3 v0 = accel[3u * i].xyz;
    vec3 e1 = accel[3u * i + 1u].xyz;
    vec3 e2 = accel[3u * i + 2u].xyz;
    tuv = vec3(0.0);
    vec3 p = cross(dir, e2);
    float det = dot(e1, p);
    float inv_det = 1.0 / det;
    vec3 s = origin - v0;
    float u = dot(s, p) * inv_det;
    if (!(u >= 0.0 && u <= 1.0)) {
        return false;
    }
    vec3 q = cross(s, e1);
    float v = dot(dir, q) * inv_det;
    if (!(v >= 0.0 && u + v <= 1.0)) {
        return false;
    }
    float t = dot(e2, q) * inv_det;
    if (t > 0.0 && t < t_max) {
        tuv = vec3(t, u, v);
        return true;
    }
    return false;
}

// The closest hit (any_hit false) or whether anything is hit (true).
bool traverse(vec3 origin, vec3 dir, float t_max, bool any_hit, out Hit hit) {
    hit.t = t_max;
    hit.u = 0.0;
    hit.v = 0.0;
    hit.triangle = NONE;
    if (params.counts.z == 0u) {
        return false;
    }
    vec3 inv_dir;
    for (int k = 0; k < 3; k++) {
        inv_dir[k] = abs(dir[k]) > 1e-30 ? 1.0 / dir[k] : copysign1(dir[k]) * 1e30;
    }
    vec3 origin_scaled = origin * inv_dir;
    if (slab(0u, inv_dir, origin_scaled, t_max) == INF) {
        return false;
    }
    uint stack[STACK_SIZE];
    uint sp = 0u;
    uint index = 0u;
    bool found = false;
    for (;;) {
        uint count = floatBitsToUint(nodes[index].max_count.w);
        uint left_or_first = floatBitsToUint(nodes[index].min_left.w);
        if (count > 0u) {
            for (uint i = left_or_first; i < left_or_first + count; i++) {
                vec3 tuv;
                if (hit_triangle(i, origin, dir, hit.t, tuv)) {
                    found = true;
                    hit.t = tuv.x;
                    hit.u = tuv.y;
                    hit.v = tuv.z;
                    hit.triangle = i;
                    if (any_hit) {
                        return true;
                    }
                }
            }
            if (sp == 0u) {
                break;
            }
            sp -= 1u;
            index = stack[sp];
            continue;
        }
        uint near = index + 1u;
        uint far = left_or_first;
        float d_near = slab(near, inv_dir, origin_scaled, hit.t);
        float d_far = slab(far, inv_dir, origin_scaled, hit.t);
        if (d_far < d_near) {
            uint tmp = near;
            near = far;
            far = tmp;
            float dt = d_near;
            d_near = d_far;
            d_far = dt;
        }
        if (d_near == INF) {
            if (sp == 0u) {
                break;
            }
            sp -= 1u;
            index = stack[sp];
        } else {
            index = near;
            if (d_far != INF && sp < STACK_SIZE) {
                stack[sp] = far;
                sp += 1u;
            }
        }
    }
    if (found) {
        hit.triangle = ids[hit.triangle];
    }
    return found;
}

bool trace_closest(vec3 origin, vec3 dir, out Hit hit) {
    return traverse(origin, dir, INF, false, hit);
}

bool trace_occluded(vec3 origin, vec3 dir, float t_max) {
    Hit hit;
    return traverse(origin, dir, t_max, true, hit);
}

void main() {
    uvec2 pixel = gl_GlobalInvocationID.xy;
    if (pixel.x >= params.dims.x || pixel.y >= params.dims.y) {
        return;
    }
    render_pixel(pixel.x, pixel.y, pass_.first_sample, pass_.end_sample);
}
