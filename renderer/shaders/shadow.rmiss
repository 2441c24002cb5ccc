#version 460
#extension GL_EXT_ray_tracing : require

layout(location = 1) rayPayloadInEXT uint shadow_payload;

void main() {
    shadow_payload = 0u;
}
