"""Model checkpoints: conversion of Qwen-7B (v1, remote code) to native transformers, tiny test models."""
