// nn::Module: the registry of named parameters, buffers and children, and train/eval mode.
#include "xgrad/nn/module.hpp"

#include <stdexcept>
#include <unordered_set>

namespace xgrad::nn {

namespace {

/// @brief Appends `entries`' pairs to `out` with "prefix." in front of each name.
void append_prefixed(std::vector<NamedVar>& out, const std::string& prefix,
                     const std::vector<NamedVar>& entries) {
    for (const NamedVar& entry : entries)
        out.emplace_back(prefix + "." + entry.first, entry.second);
}

/// @brief Removes the later entries whose Var (its node) appeared earlier: a module reached
/// twice (the same child appended twice, or shared between children) is listed once, under the
/// first name (PyTorch's remove_duplicate = True), so an optimizer steps each Var once.
void remove_duplicates(std::vector<NamedVar>& entries) {
    std::unordered_set<const detail::Node*> seen;
    std::vector<NamedVar> kept;
    kept.reserve(entries.size());
    for (NamedVar& entry : entries) {
        if (seen.insert(entry.second.node_ptr().get()).second) kept.push_back(std::move(entry));
    }
    entries = std::move(kept);
}

}  // namespace

std::vector<Var> Module::parameters() const {
    std::vector<Var> params;
    std::unordered_set<const detail::Node*> seen;
    auto add = [&](const Var& p) {
        if (seen.insert(p.node_ptr().get()).second) params.push_back(p);
    };
    for (const NamedVar& p : parameters_) add(p.second);
    for (const auto& child : children_) {
        for (const Var& p : child.second->parameters()) add(p);
    }
    return params;
}

std::vector<NamedVar> Module::named_parameters() const {
    std::vector<NamedVar> out = parameters_;
    for (const auto& child : children_) {
        append_prefixed(out, child.first, child.second->named_parameters());
    }
    remove_duplicates(out);
    return out;
}

std::vector<NamedVar> Module::named_buffers() const {
    std::vector<NamedVar> out = buffers_;
    for (const auto& child : children_) {
        append_prefixed(out, child.first, child.second->named_buffers());
    }
    remove_duplicates(out);
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
