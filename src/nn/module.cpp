// nn::Module: the registry of named parameters, buffers and children, and train/eval mode.
#include "xgrad/nn/module.hpp"

#include <stdexcept>

namespace xgrad::nn {

namespace {

/// @brief Appends `entries`' pairs to `out` with "prefix." in front of each name.
void append_prefixed(std::vector<NamedVar>& out, const std::string& prefix,
                     const std::vector<NamedVar>& entries) {
    for (const NamedVar& entry : entries)
        out.emplace_back(prefix + "." + entry.first, entry.second);
}

}  // namespace

std::vector<Var> Module::parameters() const {
    std::vector<Var> params;
    for (const NamedVar& p : parameters_) params.push_back(p.second);
    for (const auto& child : children_) {
        for (const Var& p : child.second->parameters()) params.push_back(p);
    }
    return params;
}

std::vector<NamedVar> Module::named_parameters() const {
    std::vector<NamedVar> out = parameters_;
    for (const auto& child : children_) {
        append_prefixed(out, child.first, child.second->named_parameters());
    }
    return out;
}

std::vector<NamedVar> Module::named_buffers() const {
    std::vector<NamedVar> out = buffers_;
    for (const auto& child : children_) {
        append_prefixed(out, child.first, child.second->named_buffers());
    }
    return out;
}

std::vector<Var> Module::buffers() const {
    std::vector<Var> out;
    for (const NamedVar& b : named_buffers()) out.push_back(b.second);
    return out;
}

void Module::train(bool on) {
    training_ = on;
    for (const auto& child : children_) child.second->train(on);
}

void Module::check_new_name(const std::string& name) const {
    if (name.empty() || name.find('.') != std::string::npos) {
        throw std::invalid_argument("Module: the name '" + name +
                                    "' must be non-empty and hold no '.'");
    }
    auto taken = [&name](const auto& entries) {
        for (const auto& entry : entries) {
            if (entry.first == name) return true;
        }
        return false;
    };
    if (taken(parameters_) || taken(buffers_) || taken(children_)) {
        throw std::invalid_argument("Module: the name '" + name + "' is registered already");
    }
}

Var Module::register_parameter(const std::string& name, Var v) {
    check_new_name(name);
    if (!v.is_leaf() || !v.requires_grad()) {
        throw graph_error("Module: parameter '" + name + "' must be a parameter() leaf, got '" +
                          v.op_name() + "'");
    }
    parameters_.emplace_back(name, v);
    return v;
}

Var Module::register_buffer(const std::string& name, Var v) {
    check_new_name(name);
    if (!v.is_leaf() || v.requires_grad()) {
        throw graph_error("Module: buffer '" + name + "' must be a constant() leaf, got '" +
                          v.op_name() + "'");
    }
    buffers_.emplace_back(name, v);
    return v;
}

void Module::register_module(const std::string& name, std::shared_ptr<Module> module) {
    check_new_name(name);
    if (!module) throw std::invalid_argument("Module: child '" + name + "' is null");
    children_.emplace_back(name, std::move(module));
}

}  // namespace xgrad::nn
