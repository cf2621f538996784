"""Building onnxruntime graphs in memory from a package's weights.

Both encoders (`use_onnx`, `minilm`) ship as plain weight files, not ONNX models, so
their forward passes are written here as graphs at load time. The int8 products quantise
their activations per run (DynamicQuantizeLinear, then `com.microsoft.MatMulIntegerToFloat`
against weights quantised per output column): about twice as fast as fp32 on one core.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import ModelProto, TensorProto, ValueInfoProto, helper, numpy_helper

_INLINE_BYTES = 4096


class GraphBuilder:
    """Collects a graph's inputs, nodes and initializers, then emits the ONNX model."""

    def __init__(self, name: str, inputs: list[ValueInfoProto]) -> None:
        self.name = name
        self.inputs = inputs
        self.output = helper.make_tensor_value_info("", TensorProto.UNDEFINED, None)
        self.nodes: list = []
        self.consts: dict[str, np.ndarray] = {}

    def _dense(self, x: str, weights: np.ndarray, bias: np.ndarray, int8: bool) -> str:
        """x @ weights + bias, weights (inputs x outputs) in fp32 or int8."""
        name = f"dense{len(self.nodes)}"
        if int8:
            return self._int8_matmul(*self._quantise(x), weights, bias, name)
        y = self._node("MatMul", x, self._const(name, weights))
        return self._node("Add", y, self._const(f"{name}_b", bias))

    def _int8_matmul(
        self, levels: str, scale: str, zero: str, weights: np.ndarray, bias: np.ndarray, name: str
    ) -> str:
        """Quantised x (uint8 levels, scale, zero point) @ int8 weights + bias, in float."""
        quantised, column_scale = quantise_columns(weights)
        return self._node(
            "MatMulIntegerToFloat",
            levels,
            self._const(name, quantised),
            scale,
            self._const(f"{name}_scale", column_scale),
            zero,
            "",
            self._const(f"{name}_b", bias),
            domain="com.microsoft",
        )

    def _quantise(self, x: str) -> tuple[str, str, str]:
        """uint8 levels of x, with the scale and zero point of its range."""
        name = f"quantised{len(self.nodes)}"
        outputs = (name, f"{name}_scale", f"{name}_zero")
        self.nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(outputs), name=name))
        return outputs

    def _layernorm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        name = f"ln{len(self.nodes)}"
        return self._node(
            "LayerNormalization",
            x,
            self._const(f"{name}_g", gamma),
            self._const(f"{name}_b", beta),
            axis=-1,
            epsilon=eps,
        )

    def _const(self, name: str, value: np.ndarray) -> str:
        if name not in self.consts:
            if value.dtype == np.float64:
                value = value.astype(np.float32)
            self.consts[name] = np.asarray(value, order="C")  # keeps 0-d arrays 0-d
        return name

    def _node(
        self, op: str, *inputs: str, output: str | None = None, domain: str = "", **attrs
    ) -> str:
        output = output or f"{op.lower()}{len(self.nodes)}"
        self.nodes.append(
            helper.make_node(op, list(inputs), [output], name=output, domain=domain, **attrs)
        )
        return output

    def weights(self) -> dict[str, np.ndarray]:
        """The initializers too big to inline (shape inference only reads small ones)."""
        return {name: a for name, a in self.consts.items() if a.nbytes >= _INLINE_BYTES}

    def model(self) -> ModelProto:
        weights = self.weights()
        initializers = [
            _external(name, a) if name in weights else numpy_helper.from_array(a, name)
            for name, a in self.consts.items()
        ]
        graph = helper.make_graph(self.nodes, self.name, self.inputs, [self.output], initializers)
        opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
        return helper.make_model(graph, opset_imports=opsets)


def session(graph: GraphBuilder, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Handed over as OrtValues rather than serialised into the model: onnxruntime takes
    # one copy, where model bytes would add two more for the load to leave behind.
    external = graph.weights()
    values = [ort.OrtValue.ortvalue_from_numpy(array) for array in external.values()]
    options.add_external_initializers(list(external), values)
    return ort.InferenceSession(
        graph.model().SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def quantise_columns(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output column: (int8 weights, float32 scale per column)."""
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    quantised = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    return quantised, scale.astype(np.float32)


def _external(name: str, value: np.ndarray) -> TensorProto:
    """A placeholder whose data the session gets from SessionOptions.add_external_initializers."""
    tensor = TensorProto(
        name=name,
        dims=value.shape,
        data_location=TensorProto.EXTERNAL,
        data_type=helper.np_dtype_to_tensor_dtype(value.dtype),
    )
    tensor.external_data.add(key="location", value="(session options)")
    return tensor
