#version 460
#extension GL_EXT_ray_tracing : require
#include "payload.glsl"

layout(location = 0) rayPayloadInEXT HitPayload hit_payload;
hitAttributeEXT vec2 barycentrics;

void main() {
    hit_payload.t = gl_HitTEXT;
    hit_payload.u = barycentrics.x;
    hit_payload.v = barycentrics.y;
    // Each mesh's instance carries the index of its first triangle.
    hit_payload.triangle = uint(gl_InstanceCustomIndexEXT) + uint(gl_PrimitiveID);
}
