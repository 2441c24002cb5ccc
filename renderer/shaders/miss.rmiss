#version 460
#extension GL_EXT_ray_tracing : require
#include "payload.glsl"

layout(location = 0) rayPayloadInEXT HitPayload hit_payload;

void main() {
    hit_payload.triangle = 0xffffffffu;
}
