(define (problem plan_pick_and_place_simple-Mug-None-CoffeeMachine-kitchen1)
(:domain alfred)
(:objects
agent1 - agent
        AppleType - otype
        ButterKnifeType - otype
        CupType - otype
        EggType - otype
        KnifeType - otype
        MugType - otype
        PanType - otype
        PlateType - otype
        PotatoType - otype
        SpoonType - otype
        CabinetType - rtype
        CoffeeMachineType - rtype
        CounterTopType - rtype
        DrawerType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        StoveBurnerType - rtype
        Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Drawer_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        Fridge_bar__plus_02_dot_51_bar__plus_01_dot_00_bar__plus_00_dot_65 - receptacle
        Microwave_bar__plus_03_dot_21_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        Sink_bar__plus_03_dot_03_bar__plus_00_dot_95_bar__plus_01_dot_51_bar_SinkBasin - receptacle
        CoffeeMachine_bar__plus_04_dot_39_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        StoveBurner_bar__plus_04_dot_54_bar__plus_00_dot_90_bar__plus_02_dot_37 - receptacle
        GarbageCan_bar__plus_04_dot_80_bar__plus_00_dot_95_bar__plus_02_dot_80 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_1_bar_1_bar_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_4_bar_2_bar_30 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 CounterTopType)
        (receptacleType CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 CounterTopType)
        (receptacleType Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 CabinetType)
        (receptacleType Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 CabinetType)
        (receptacleType Drawer_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 DrawerType)
        (receptacleType Fridge_bar__plus_02_dot_51_bar__plus_01_dot_00_bar__plus_00_dot_65 FridgeType)
        (receptacleType Microwave_bar__plus_03_dot_21_bar__plus_00_dot_90_bar__plus_01_dot_08 MicrowaveType)
        (receptacleType Sink_bar__plus_03_dot_03_bar__plus_00_dot_95_bar__plus_01_dot_51_bar_SinkBasin SinkBasinType)
        (receptacleType CoffeeMachine_bar__plus_04_dot_39_bar__plus_01_dot_00_bar__plus_01_dot_94 CoffeeMachineType)
        (receptacleType StoveBurner_bar__plus_04_dot_54_bar__plus_00_dot_90_bar__plus_02_dot_37 StoveBurnerType)
        (receptacleType GarbageCan_bar__plus_04_dot_80_bar__plus_00_dot_95_bar__plus_02_dot_80 GarbageCanType)
        (objectType Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 AppleType)
        (objectType Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 KnifeType)
        (objectType Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 PlateType)
        (objectType Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 MugType)
        (objectType Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 SpoonType)
        (objectType Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 EggType)
        (objectType Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 PanType)
        (objectType Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 PotatoType)
        (objectType Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54 CupType)
        (canContain CabinetType CupType)
        (canContain CabinetType MugType)
        (canContain CabinetType PanType)
        (canContain CabinetType PlateType)
        (canContain CoffeeMachineType MugType)
        (canContain CounterTopType AppleType)
        (canContain CounterTopType CupType)
        (canContain CounterTopType EggType)
        (canContain CounterTopType KnifeType)
        (canContain CounterTopType MugType)
        (canContain CounterTopType PanType)
        (canContain CounterTopType PlateType)
        (canContain CounterTopType PotatoType)
        (canContain CounterTopType SpoonType)
        (canContain DrawerType KnifeType)
        (canContain DrawerType SpoonType)
        (canContain FridgeType AppleType)
        (canContain FridgeType CupType)
        (canContain FridgeType EggType)
        (canContain FridgeType MugType)
        (canContain FridgeType PanType)
        (canContain FridgeType PlateType)
        (canContain FridgeType PotatoType)
        (canContain GarbageCanType AppleType)
        (canContain GarbageCanType EggType)
        (canContain GarbageCanType PotatoType)
        (canContain MicrowaveType AppleType)
        (canContain MicrowaveType CupType)
        (canContain MicrowaveType EggType)
        (canContain MicrowaveType MugType)
        (canContain MicrowaveType PlateType)
        (canContain MicrowaveType PotatoType)
        (canContain SinkBasinType AppleType)
        (canContain SinkBasinType CupType)
        (canContain SinkBasinType EggType)
        (canContain SinkBasinType KnifeType)
        (canContain SinkBasinType MugType)
        (canContain SinkBasinType PanType)
        (canContain SinkBasinType PlateType)
        (canContain SinkBasinType PotatoType)
        (canContain SinkBasinType SpoonType)
        (canContain StoveBurnerType PanType)
        (pickupable Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (isReceptacleObject Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (isReceptacleObject Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (isReceptacleObject Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (isReceptacleObject Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (openable Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (openable Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (openable Drawer_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (openable Fridge_bar__plus_02_dot_51_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (openable Microwave_bar__plus_03_dot_21_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (cleanable Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (cleanable Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (cleanable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (cleanable Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (cleanable Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (cleanable Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (cleanable Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (cleanable Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (cleanable Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (heatable Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (heatable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (heatable Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (heatable Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (heatable Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (heatable Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (coolable Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (coolable Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (coolable Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (coolable Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (coolable Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (coolable Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (coolable Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (sliceable Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (sliceable Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (sliceable Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (inReceptacle Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 Drawer_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 Fridge_bar__plus_02_dot_51_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (inReceptacle Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 StoveBurner_bar__plus_04_dot_54_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (inReceptacle Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 GarbageCan_bar__plus_04_dot_80_bar__plus_00_dot_95_bar__plus_02_dot_80)
        (inReceptacle Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54 Sink_bar__plus_03_dot_03_bar__plus_00_dot_95_bar__plus_01_dot_51_bar_SinkBasin)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_51_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Drawer_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Fridge_bar__plus_02_dot_51_bar__plus_01_dot_00_bar__plus_00_dot_65 loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation Microwave_bar__plus_03_dot_21_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation Sink_bar__plus_03_dot_03_bar__plus_00_dot_95_bar__plus_01_dot_51_bar_SinkBasin loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation CoffeeMachine_bar__plus_04_dot_39_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (receptacleAtLocation StoveBurner_bar__plus_04_dot_54_bar__plus_00_dot_90_bar__plus_02_dot_37 loc_bar_2_bar_1_bar_1_bar_15)
        (receptacleAtLocation GarbageCan_bar__plus_04_dot_80_bar__plus_00_dot_95_bar__plus_02_dot_80 loc_bar_3_bar_4_bar_2_bar_30)
        (objectAtLocation Apple_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Plate_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation Mug_bar__plus_08_dot_84_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation Spoon_bar__plus_09_dot_43_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation Egg_bar__plus_09_dot_58_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation Pan_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation Potato_bar__plus_10_dot_65_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_3_bar_4_bar_2_bar_30)
        (objectAtLocation Cup_bar__plus_10_dot_69_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_0_bar_6_bar_3_bar__minus_15)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (inReceptacle ?o ?r)
                            (objectType ?o MugType)
                            (receptacleType ?r CoffeeMachineType)
                        )
                    )
                )
            )
        )
    )
