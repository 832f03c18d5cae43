// Var: the handle's methods, leaves, and the thread-local no_grad and anomaly switches.
#include "xgrad/core/var.hpp"

#include "core/leaf.hpp"
#include "xgrad/core/tape.hpp"

namespace xgrad {

namespace {
thread_local bool grad_enabled = true;
thread_local bool anomaly_detection = false;
}  // namespace

Var::Var(std::shared_ptr<detail::Node> node) : node_(std::move(node)) {}

detail::Node& Var::node() const {
    if (!node_) throw graph_error("xgrad::Var: this Var is empty (default-constructed)");
    return *node_;
}

const array& Var::value() const {
    return node().value();
}

array& Var::mutable_value() const {
    if (!node().is_leaf()) {
        throw graph_error(std::string("mutable_value(): only leaves can be written; this node is "
                                      "computed by '") +
                          node_->op_name() + "'");
    }
    node_->bump_version();
    return node_->mutable_value();
}

const array& Var::grad() const {
    if (!node().requires_grad()) {
        throw graph_error(std::string("grad(): this '") + node_->op_name() +
                          "' node has no gradient: it depends on no parameter (use parameter() "
                          "for values that need one)");
    }
    return node_->grad();
}

const shape_type& Var::shape() const {
    return value().shape();
}
std::size_t Var::size() const {
    return value().size();
}
std::size_t Var::dimension() const {
    return value().dimension();
}

double Var::item() const {
    const array& v = value();
    if (v.size() != 1) {
        throw shape_error("item(): value of shape " + format_shape(v.shape()) +
                          " is not a single number");
    }
    return v.data()[0];
}

bool Var::requires_grad() const {
    return node().requires_grad();
}
bool Var::is_leaf() const {
    return node().is_leaf();
}
const char* Var::op_name() const {
    return node().op_name();
}

void Var::backward() const {
    Tape(*this).backward();
}
void Var::backward(const array& seed) const {
    Tape(*this).backward(seed);
}
array& Var::mutable_grad() const {
    grad();  // the same check and message
    return node_->mutable_grad();
}

void Var::zero_grad() const {
    node().schedule_zero_grad();
}

Var parameter(array value) {
    return Var(std::make_shared<detail::LeafNode>(std::move(value), true));
}
Var parameter(double value) {
    return parameter(array(value));
}
Var constant(array value) {
    return Var(std::make_shared<detail::LeafNode>(std::move(value), false));
}
Var constant(double value) {
    return constant(array(value));
}

no_grad::no_grad() : previous_(grad_enabled) {
    grad_enabled = false;
}
no_grad::~no_grad() {
    grad_enabled = previous_;
}
enable_grad::enable_grad() : previous_(grad_enabled) {
    grad_enabled = true;
}
enable_grad::~enable_grad() {
    grad_enabled = previous_;
}
bool is_grad_enabled() {
    return grad_enabled;
}

detect_anomaly::detect_anomaly() : previous_(anomaly_detection) {
    anomaly_detection = true;
}
detect_anomaly::~detect_anomaly() {
    anomaly_detection = previous_;
}
bool is_anomaly_detection_enabled() {
    return anomaly_detection;
}

const Var& Var::set_label(std::string label) const {
    node().label = std::move(label);
    return *this;
}
const std::string& Var::label() const {
    return node().label;
}

}  // namespace xgrad
